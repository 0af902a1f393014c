"""Run the rendered web pod's command as its pod spec says and drive it like the kubelet would.

Per overlay: the web container starts (uid 1001, read-only root, only /tmp writable, the rendered env and
secret files) against an empty PostgreSQL database; the startup probe passes while readiness stays 503
until the migration Job's command has run; readiness and liveness then pass on their declared timings.
Termination follows the kubelet: preStop sleep, SIGTERM, readiness must drop while requests in flight still
succeed, and the process must exit 0 before terminationGracePeriodSeconds.

A few values differ from the cluster, all loopback-only test rules: HYPERPAGE_HOST is 127.0.0.1 (not
0.0.0.0), HYPERPAGE_PORT and HYPERPAGE_METRICS_PORT are free ports; DATABASE_URL (and, where rendered, the
LISTEN URL) points at the test cluster instead of the in-cluster Service. Other secret files keep their rendered
content (staging and production: a REDIS_URL naming the in-cluster Redis, unreachable here, which the rate
limiter counts around). Staging and production require an identity on data routes, so the test also sets the
bootstrap credential HYPERPAGE_ADMIN_TOKEN and sends it as a Bearer token; /livez, /readyz and the metrics port
need none. test_contract.py checks the rendered values themselves.
"""

from __future__ import annotations

import secrets
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.deploy.k8s.appview import secret_files, web_container
from tests.deploy.k8s.kubelet import Load, PeriodicProbe, passes, probe_once, run_startup_probe
from tests.deploy.k8s.manifests import OVERLAYS, overlay
from tests.deploy.k8s.podsandbox import launch
from tests.pg import PgCluster
from tests.tooling import free_port

# Bootstrap admin credential (auth contract: HYPERPAGE_ADMIN_TOKEN, identity "bootstrap-admin"), test-only.
ADMIN_TOKEN = secrets.token_urlsafe(32)


def _pod_inputs(name: str, url: str, port: int, metrics_port: int) -> tuple[dict, dict, dict, dict, dict]:
    rendered = overlay(name)
    template, container = web_container(rendered)
    env = rendered.app_env(container) | {
        "HYPERPAGE_HOST": "127.0.0.1",
        "HYPERPAGE_PORT": str(port),
        "HYPERPAGE_METRICS_PORT": str(metrics_port),
        "HYPERPAGE_ADMIN_TOKEN": ADMIN_TOKEN,
    }
    files = _with_database(secret_files(rendered, template, container), env, url)
    job = rendered.get("Job", "hyperpage-migrate")["spec"]["template"]
    [job_container] = job["spec"]["containers"]
    job_env = rendered.app_env(job_container)
    job_secrets = _with_database(secret_files(rendered, job, job_container), job_env, url)
    return template, container, env, files, {"container": job_container, "env": job_env, "secrets": job_secrets}


def _with_database(files: dict[str, str], env: dict[str, str], url: str) -> dict[str, str]:
    """The rendered secret files, with the database URL files (query and LISTEN) pointing at the test cluster."""
    assert env["DATABASE_URL_FILE"] in files
    paths = [env[k] for k in ("DATABASE_URL_FILE", "HYPERPAGE_LISTEN_DATABASE_URL_FILE") if k in env]
    return files | {path: url for path in paths}


def _cache_hits(metrics_port: int) -> float:
    metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("hyperpage_api_cache_requests_total{") and 'result="hit"' in line
    )


def _list_cache_is_trusted(port: int, metrics_port: int, within: float) -> bool:
    """A repeated list page becomes a cache hit once the LISTEN connection has heard its probe come round
    (its retries back off to 30 s while the schema has no change triggers yet)."""
    deadline = time.monotonic() + within
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    while time.monotonic() < deadline:
        for _ in range(2):
            response = httpx.get(f"http://127.0.0.1:{port}/api/v1/reviews", headers=headers, timeout=5)
            assert response.status_code == 200, response.text
        if _cache_hits(metrics_port) > 0:
            return True
        time.sleep(0.5)
    return False


def _status_of(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {k: v.strip() for k, _, v in (line.partition(":") for line in lines)}


@pytest.mark.slow
@pytest.mark.tools
@pytest.mark.parametrize("name", OVERLAYS)
def test_web_pod_lifecycle(name: str, pg_cluster: PgCluster, tmp_path: Path) -> None:
    database = pg_cluster.create_database(prefix=f"pod_{name}")
    url = pg_cluster.url(database)
    port, metrics_port = free_port(), free_port()
    template, container, env, files, job = _pod_inputs(name, url, port, metrics_port)
    pod = template["spec"]
    web = launch(
        container["command"] + container["args"],
        env=env,
        secrets=files,
        stage=tmp_path / "web",
        log=tmp_path / "web.log",
    )
    readiness = liveness = load = None
    try:
        attempts = run_startup_probe(port, container["startupProbe"], alive=lambda: web.poll() is None)
        status = _status_of(web.pid)
        assert status["Uid"].split()[:2] == ["1001", "1001"] and status["Gid"].split()[0] == "1001"
        assert status["NoNewPrivs"] == "1" and int(status["CapEff"], 16) == 0
        assert attempts <= container["startupProbe"]["failureThreshold"]

        readiness = PeriodicProbe(port, container["readinessProbe"]).start()
        liveness = PeriodicProbe(port, container["livenessProbe"]).start()
        # Empty database: alive but not ready, so no traffic reaches a pod whose schema is behind.
        assert probe_once(port, container["readinessProbe"]) == 503
        migrate = launch(
            job["container"]["command"] + job["container"]["args"],
            env=job["env"],
            secrets=job["secrets"],
            stage=tmp_path / "job",
            log=tmp_path / "job.log",
        )
        assert migrate.wait(timeout=120) == 0, (tmp_path / "job.log").read_text()
        migrated = time.monotonic()

        # Readiness turns on within its failureThreshold periods; liveness holds for a whole period.
        period = container["readinessProbe"]["periodSeconds"]
        deadline = migrated + period * (container["readinessProbe"]["failureThreshold"] + 1)
        while readiness.first_pass_after(migrated) is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert readiness.first_pass_after(migrated) is not None, "never became ready after the migration"
        ready = time.monotonic()
        # Meanwhile the API response cache comes on: the rendered pod's LISTEN connection works.
        assert _list_cache_is_trusted(port, metrics_port, within=40), (tmp_path / "web.log").read_text()[-3000:]
        time.sleep(max(0.0, ready + container["livenessProbe"]["periodSeconds"] + 0.5 - time.monotonic()))
        # The kubelet restarts the container only after failureThreshold misses in a row.
        assert liveness.worst_failure_streak() < container["livenessProbe"]["failureThreshold"]
        assert len(liveness.results) >= 2
        liveness.stop()
        readiness.stop()

        # Termination, as the kubelet does it: preStop, then SIGTERM, then SIGKILL at the grace period.
        load = Load(port, "/livez").start()
        terminating = time.monotonic()
        pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
        time.sleep(pre_stop)
        web.send_signal(signal.SIGTERM)
        sigterm = time.monotonic()
        # Clients routed before the endpoint removal keep arriving for a while; none after the drain.
        last_arrival = sigterm + float(env.get("HYPERPAGE_DRAIN_SECONDS", "5")) - 1.0
        dropped = None
        while web.poll() is None and time.monotonic() - terminating < pod["terminationGracePeriodSeconds"]:
            status_code = probe_once(port, container["readinessProbe"])
            if dropped is None and status_code is not None and not passes(status_code):
                dropped = status_code
            if time.monotonic() >= last_arrival:
                load.stop()
            time.sleep(0.2)
        budget = pod["terminationGracePeriodSeconds"] - (time.monotonic() - terminating)
        try:
            code = web.wait(timeout=max(budget, 0.1))
        except subprocess.TimeoutExpired:
            pytest.fail("still running at terminationGracePeriodSeconds: the kubelet would SIGKILL it")
        load.stop()
        assert code == 0, (tmp_path / "web.log").read_text()[-3000:]
        assert dropped == 503, "readiness did not drop after SIGTERM"
        failures = [(round(t - sigterm, 2), outcome) for t, outcome in load.outcomes if outcome != "ok"]
        assert not failures, f"requests failed (seconds after SIGTERM, outcome): {failures}"
        served_while_draining = [t for t, outcome in load.outcomes if outcome == "ok" and t > sigterm]
        assert served_while_draining, "the app stopped serving at SIGTERM instead of draining"
    finally:
        for probe in (readiness, liveness, load):
            if probe is not None:
                probe.stop()
        if web.poll() is None:
            web.kill()
            web.wait()
        pg_cluster.drop_database(database)
