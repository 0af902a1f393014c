"""The S3 destination against a real S3 API (a local moto server on 127.0.0.1)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from typer.testing import CliRunner

from hyperpage.cli import app
from hyperpage.config import get_settings
from tests.backup.conftest import summaries
from tests.tooling import free_port


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = Path(sys.executable).parent / "moto_server"
    if not server.exists():
        pytest.fail("moto_server is missing: install the test extra (moto[server])", pytrace=False)
    port = free_port()
    proc = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(url, timeout=0.5)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("moto_server did not start", pytrace=False)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def s3_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, cli_env: None) -> dict[str, str]:
    creds = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    for key, value in creds.items():
        monkeypatch.setenv(key, value)
    bucket = f"backups-{free_port()}"
    boto3.client("s3", endpoint_url=moto_endpoint).create_bucket(Bucket=bucket)
    return {
        "HYPERPAGE_BACKUP_DESTINATION": f"s3://{bucket}/hyperpage/nightly",
        "HYPERPAGE_BACKUP_S3_ENDPOINT_URL": moto_endpoint,
        "HYPERPAGE_BACKUP_S3_REGION": "us-east-1",
        "_bucket": bucket,
    }


def _cli(*args: str, env: dict[str, str]):
    get_settings.cache_clear()
    return CliRunner().invoke(app, ["backup", *args], env={k: v for k, v in env.items() if not k.startswith("_")})


def test_s3_create_list_verify_restore_prune(filled_db_url: str, new_db_url: str, s3_env: dict[str, str]) -> None:
    env = {**s3_env, "DATABASE_URL": filled_db_url}
    first = _cli("create", env=env)
    assert first.exit_code == 0, first.output
    second = _cli("create", env=env)
    assert second.exit_code == 0, second.output
    newest = second.output.split(":")[0]

    keys = [
        o["Key"]
        for o in boto3.client("s3", endpoint_url=s3_env["HYPERPAGE_BACKUP_S3_ENDPOINT_URL"]).list_objects_v2(
            Bucket=s3_env["_bucket"]
        )["Contents"]
    ]
    assert all(k.startswith("hyperpage/nightly/hyperpage-") for k in keys) and len(keys) == 4

    listed = _cli("list", env=env)
    assert listed.output.index(newest) < listed.output.index(first.output.split(":")[0])

    verified = _cli("verify", env=env)  # the newest by default
    assert verified.exit_code == 0, verified.output
    assert f"{newest}: verified" in verified.output

    restored = _cli("restore", "--backup", newest, "--to", new_db_url, env=env)
    assert restored.exit_code == 0, restored.output
    source, after = summaries(filled_db_url), summaries(new_db_url)
    source.pop("app_state"), after.pop("app_state")  # the first create's record is in the second backup
    assert after == source

    pruned = _cli("prune", "--keep-copies", "1", "--keep-days", "0", env=env)
    assert pruned.exit_code == 0, pruned.output
    assert "1 backups kept, 1 deleted" in pruned.output
    listed = _cli("list", env=env)
    assert newest in listed.output and first.output.split(":")[0] not in listed.output


def test_an_unreachable_bucket_fails_the_backup(db_url: str, s3_env: dict[str, str]) -> None:
    env = {**s3_env, "DATABASE_URL": db_url, "HYPERPAGE_BACKUP_DESTINATION": "s3://no-such-bucket/x"}
    result = _cli("create", env=env)
    assert result.exit_code == 1
    assert "backup failed" in result.output and "NoSuchBucket" in result.output
