"""The deploy script waits for, port-forwards to and checks objects that the real overlays render."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from tests.tooling import REPO_ROOT, require_tool

SCRIPT = (REPO_ROOT / "scripts" / "deploy-terraform.sh").read_text()


def _script_value(name: str) -> str:
    match = re.search(rf'^{name}="([^"]+)"', SCRIPT, re.MULTILINE)
    assert match, f"{name} not found in scripts/deploy-terraform.sh"
    return match.group(1)


@pytest.mark.parametrize("overlay", ["development", "staging", "production"])
def test_script_names_match_the_rendered_overlay(overlay: str) -> None:
    kubectl = require_tool("kubectl")
    out = subprocess.run(
        [kubectl, "kustomize", str(REPO_ROOT / "deploy/k8s/overlays" / overlay)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    objects = {(d["kind"], d["metadata"]["name"]) for d in yaml.safe_load_all(out) if d}
    app, job = _script_value("APP_NAME"), _script_value("MIGRATE_JOB")
    assert ("Service", app) in objects and ("Deployment", app) in objects
    assert ("Job", job) in objects
    if overlay != "development":  # development runs one replica without an HPA
        assert ("HorizontalPodAutoscaler", app) in objects
