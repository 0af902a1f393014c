"""The sqlite-to-postgres Job renders with kustomize, validates strictly against Kubernetes 1.30, and is safe."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.migrate.sources import hyperpage_cli
from tests.tooling import REPO_ROOT, require_tool

JOB_DIR = REPO_ROOT / "deploy" / "k8s" / "jobs" / "sqlite-to-postgres"


def _render() -> str:
    kubectl = require_tool("kubectl")
    return subprocess.run([kubectl, "kustomize", str(JOB_DIR)], check=True, capture_output=True, text=True).stdout


def test_job_renders_and_passes_strict_validation() -> None:
    validator = Path(sys.executable).parent / "kubernetes-validate"
    if not validator.exists():
        validator = Path(require_tool("kubernetes-validate"))
    result = subprocess.run(
        [str(validator), "-k", "1.30.0", "--strict", "-"], input=_render(), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed" in result.stdout + result.stderr


def test_job_runs_the_migration_like_the_app_runs_itself() -> None:
    (job,) = [d for d in yaml.safe_load_all(_render()) if d["kind"] == "Job"]
    assert job["kind"] == "Job" and job["spec"]["backoffLimit"] == 0
    pod = job["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == pod["securityContext"]["runAsGroup"] == 1001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = pod["containers"]
    sc = container["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert mounts["sqlite"]["readOnly"] is True and volumes["sqlite"]["persistentVolumeClaim"]["readOnly"] is True
    env = {e["name"]: e for e in container["env"]}
    assert "secretKeyRef" in env["DATABASE_URL"]["valueFrom"]  # never a literal URL
    assert container["image"].startswith("ghcr.io/hyperpage/hyperpage:")

    script = container["args"][0]
    assert "hyperpage db migrate" in script and "sqlite:////data/" in script
    help_text = hyperpage_cli("db", "migrate", "--help").stdout
    for flag in set(re.findall(r"(--[a-z][a-z-]+)", script)):
        assert flag in help_text, f"the Job passes {flag}, which `hyperpage db migrate` does not accept"
