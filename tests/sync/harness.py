"""Build a scheduler on a test database with an injected upstream transport and a recording sleep."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperpage.db.session import create_engine, make_sessionmaker
from hyperpage.sync.scheduler import Scheduler
from hyperpage.tools.http import ClientPool
from tests.conftest import make_settings


@dataclass
class SleepRecorder:
    """Stands in for asyncio.sleep: records how long the code asked to wait, returns at once."""

    calls: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@dataclass
class Harness:
    scheduler: Scheduler
    sessionmaker: async_sessionmaker[AsyncSession]
    sleep: SleepRecorder

    async def count(self, model: Any, *where: Any) -> int:
        async with self.sessionmaker() as session:
            return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    async def all(self, model: Any, *where: Any) -> list[Any]:
        async with self.sessionmaker() as session:
            return list((await session.scalars(select(model).where(*where))).all())


@asynccontextmanager
async def harness(
    db_url: str, transport: httpx.AsyncBaseTransport, *, real_sleep: bool = False, **overrides: Any
) -> AsyncIterator[Harness]:
    settings = make_settings(db_url, **overrides)
    engine = create_engine(settings)
    sessionmaker = make_sessionmaker(engine)
    sleep = SleepRecorder()
    pool = ClientPool(settings, transport=transport, sleep=asyncio.sleep if real_sleep else sleep)
    scheduler = Scheduler(settings=settings, sessionmaker=sessionmaker, pool=pool)
    try:
        yield Harness(scheduler, sessionmaker, sleep)
    finally:
        await pool.aclose()
        await engine.dispose()
