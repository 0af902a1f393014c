"""checkov on the rendered overlays, the Argo CD objects and the Dockerfile; hadolint on the Dockerfile."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.k8s.manifests import K8S_DIR, OVERLAYS, PLATFORM_DIR, argocd_dir, render_text
from tests.tooling import REPO_ROOT, require_tool


@pytest.fixture(scope="module")
def checkov_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """One checkov run over every rendered overlay, the Argo CD objects and the Dockerfile."""
    checkov = require_tool("checkov", hint="scripts/deps/40-checkov.sh")
    scan = tmp_path_factory.mktemp("checkov")
    for name in OVERLAYS:
        (scan / f"{name}.yaml").write_text(render_text(K8S_DIR / "overlays" / name))
        (scan / f"argocd-{name}.yaml").write_text(render_text(argocd_dir(name)))
        (scan / f"platform-{name}.yaml").write_text(render_text(PLATFORM_DIR / "overlays" / name))
    shutil.copy(REPO_ROOT / "Dockerfile", scan / "Dockerfile")
    proc = subprocess.run(
        [checkov, "-d", str(scan), "--framework", "kubernetes", "dockerfile", "--skip-download", "-o", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        parsed = json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"checkov gave no JSON report (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    reports = parsed if isinstance(parsed, list) else [parsed]
    return {report["check_type"]: report for report in reports}


@pytest.mark.tools
@pytest.mark.parametrize("framework", ["kubernetes", "dockerfile"])
def test_checkov_reports_no_failed_check(checkov_report: dict[str, dict], framework: str) -> None:
    report = checkov_report[framework]
    failed = [f"{c['check_id']} {c['resource']} ({c['file_path']})" for c in report["results"]["failed_checks"]]
    assert not failed
    assert report["summary"]["passed"] > 0
    summary = report["summary"]
    print(f"checkov {framework}: passed {summary['passed']}, skipped {summary['skipped']}")


@pytest.mark.tools
def test_every_checkov_skip_states_its_reason(checkov_report: dict[str, dict]) -> None:
    skipped = checkov_report["kubernetes"]["results"]["skipped_checks"]
    assert skipped, "the image-digest and uid skips are expected to show up here"
    for check in skipped:
        reason = (check.get("check_result") or {}).get("suppress_comment") or ""
        assert len(reason) > 40, f"{check['check_id']} on {check['resource']} is skipped without a reason"
    # Only the two documented exceptions; a new skip needs a reason in docs/kubernetes.md as well.
    assert {check["check_id"] for check in skipped} == {"CKV_K8S_40", "CKV_K8S_43"}


@pytest.mark.tools
def test_hadolint_is_clean() -> None:
    hadolint = require_tool("hadolint", hint="scripts/deps/41-k8s-hadolint.sh")
    proc = subprocess.run([hadolint, str(REPO_ROOT / "Dockerfile")], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dockerfile_matches_the_manifests() -> None:
    text = (REPO_ROOT / "Dockerfile").read_text()
    lines = [line.strip() for line in text.splitlines()]
    assert "USER 1001:1001" in lines
    assert "EXPOSE 3000" in lines
    assert "/livez" in text.split("HEALTHCHECK", 1)[1]
    assert "postgresql-client-15" in text
    assert "-c requirements/constraints.txt" in text
    froms = [line for line in lines if line.startswith("FROM ")]
    assert len(froms) >= 2, "multi-stage: build tools stay out of the runtime image"
    ignore = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    assert ignore[ignore.index("*") if "*" in ignore else 0] == "*", ".dockerignore must start from nothing"
    assert Path(REPO_ROOT / "requirements" / "constraints.txt").is_file()
