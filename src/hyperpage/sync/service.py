"""Start and stop a scheduler inside an ASGI app (the in-process sync of `serve`, and `worker`)."""

from __future__ import annotations

import asyncio
from typing import Any

from hyperpage.logging import get_logger
from hyperpage.sync.scheduler import Scheduler

log = get_logger(__name__)


async def start_background_sync(app: Any) -> Scheduler:
    """Register connections and start the loop; a bad connection setting fails start-up, naming it."""
    scheduler = Scheduler(settings=app.state.settings, sessionmaker=app.state.sessionmaker)
    await scheduler.prepare()
    app.state.scheduler = scheduler
    app.state.scheduler_task = asyncio.create_task(_run(scheduler), name="hyperpage-scheduler")
    log.info("scheduler_started", worker=scheduler.worker, connections=len(scheduler.specs))
    return scheduler


async def _run(scheduler: Scheduler) -> None:
    try:
        await scheduler.run_forever()
    except asyncio.CancelledError:
        raise
    except Exception:  # keep serving the stored data even if the loop dies; the error is logged
        log.exception("scheduler_crashed")


async def stop_background_sync(app: Any, *, grace: float) -> None:
    scheduler: Scheduler = app.state.scheduler
    await scheduler.stop(grace)
    task: asyncio.Task[None] = app.state.scheduler_task
    # The loop ends by itself at its next turn once stopping; cancel only if it does not (see Scheduler.stop).
    _done, pending = await asyncio.wait({task}, timeout=5.0)
    for still_running in pending:
        still_running.cancel()
    await asyncio.gather(task, return_exceptions=True)
    log.info("scheduler_stopped", worker=scheduler.worker)
