"""Run the rendered worker pod's command as its pod spec says: probes, metrics, shutdown.

Per overlay: `hyperpage worker` starts in the pod sandbox (uid 1001, read-only root, the rendered env, the
rendered secret files) against a migrated PostgreSQL database. Its startup, readiness and liveness probes
must answer on the declared port and paths; its /api/metrics must export every worker metric the
monitoring rules name (job="hyperpage-worker"); SIGTERM must end it with 0 within
terminationGracePeriodSeconds. The static half (ports, env, secrets, Prometheus objects) is checked
without a process in test_worker_contract.py.

Loopback-only differences from the cluster: HYPERPAGE_HOST is 127.0.0.1, HYPERPAGE_WORKER_PORT a free port,
DATABASE_URL the test cluster's. GitHub is enabled against `hyperpage demo upstream` with a token file, so
the sync runs and its per-connection series exist, as they do in a cluster with a tool configured.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from hyperpage.db import schema
from hyperpage.demo.config import DEMO_GITHUB_TOKEN as TOKEN
from tests.deploy.k8s.appview import secret_files
from tests.deploy.k8s.kubelet import passes, probe_once, run_startup_probe
from tests.deploy.k8s.manifests import OVERLAYS, overlay
from tests.deploy.k8s.podsandbox import launch
from tests.deploy.k8s.workerview import monitored_worker_metrics, worker_container
from tests.integration.processes import FakeUpstreamProcess
from tests.pg import PgCluster
from tests.tooling import free_port


def _scrape(port: int) -> set[str]:
    response = httpx.get(f"http://127.0.0.1:{port}/api/metrics", timeout=5)
    assert response.status_code == 200
    return {s.name for family in text_string_to_metric_families(response.text) for s in family.samples} | {
        family.name for family in text_string_to_metric_families(response.text)
    }


@pytest.mark.slow
@pytest.mark.tools
@pytest.mark.parametrize("name", OVERLAYS)
def test_worker_pod_probes_metrics_and_shutdown(name: str, pg_cluster: PgCluster, tmp_path: Path) -> None:
    rendered = overlay(name)
    template, container = worker_container(rendered)
    database = pg_cluster.create_database(prefix=f"worker_{name}")
    url = pg_cluster.url(database)
    schema.upgrade(url)
    port = free_port()
    upstream = FakeUpstreamProcess(
        "--repos", "1", "--big-repo-prs", "0", "--prs-per-repo", "2", "--runs-per-repo", "2", "--issues-per-repo", "2"
    )
    repos = ",".join(upstream.world()["github"]["repos"])
    env = rendered.app_env(container) | {
        "HYPERPAGE_HOST": "127.0.0.1",
        "HYPERPAGE_WORKER_PORT": str(port),
        "ENABLE_GITHUB": "true",
        "GITHUB_API_URL": f"{upstream.base}/github",
        "GITHUB_REPOS": repos,
    }
    secrets = secret_files(rendered, template, container)
    secrets = {path: url if path == env["DATABASE_URL_FILE"] else "" for path in secrets}
    secrets[env["GITHUB_TOKEN_FILE"]] = TOKEN
    worker = launch(
        container["command"] + container["args"],
        env=env,
        secrets=secrets,
        stage=tmp_path / "pod",
        log=tmp_path / "worker.log",
    )
    log = tmp_path / "worker.log"
    try:
        run_startup_probe(port, container["startupProbe"], alive=lambda: worker.poll() is None)
        assert passes(probe_once(port, container["readinessProbe"])), log.read_text()[-2000:]
        assert passes(probe_once(port, container["livenessProbe"]))

        # Development renders no rules; the same monitoring component would be added there.
        wanted = monitored_worker_metrics(rendered if rendered.of_kind("PrometheusRule") else overlay("production"))
        assert wanted
        deadline = time.monotonic() + 60
        missing = wanted - _scrape(port)
        while missing and time.monotonic() < deadline:
            time.sleep(1)
            missing = wanted - _scrape(port)
        assert not missing, f"monitoring names worker metrics it does not export: {sorted(missing)}"
        assert TOKEN not in log.read_text(), "the token reached the log"

        grace = template["spec"]["terminationGracePeriodSeconds"]
        worker.send_signal(signal.SIGTERM)
        try:
            code = worker.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pytest.fail("still running at terminationGracePeriodSeconds: the kubelet would SIGKILL it")
        assert code == 0, log.read_text()[-3000:]
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        upstream.stop()
        pg_cluster.drop_database(database)
