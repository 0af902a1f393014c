"""The whole-system model's inputs: per environment, the Terraform plan, the rendered overlay and the
rendered platform layer, each produced by the real tool (terraform against moto, kubectl kustomize).

Every seam check reads an `Environment`; none re-derives a value from the files it checks. Plans are
cached under test-artifacts/ keyed by a digest of deploy/terraform, so a second run in the same checkout
does not plan again; any change to a .tf or .tfvars file plans afresh.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.deploy.k8s.manifests import K8S_DIR, OVERLAYS, Rendered, render
from tests.deploy.terraform.harness import (
    TF_SOURCE,
    MotoServer,
    copy_module,
    moto_override,
    run,
    terraform_env,
    terraform_init,
)
from tests.tooling import REPO_ROOT, require_tool

PLATFORM_DIR = REPO_ROOT / "deploy" / "platform"
PLAN_CACHE = REPO_ROOT / "test-artifacts" / "terraform" / "plans"


def _terraform_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(TF_SOURCE.rglob("*")):
        if path.is_file() and path.suffix in (".tf", ".tfvars", ".hcl") and ".terraform" not in path.parts:
            digest.update(str(path.relative_to(TF_SOURCE)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@functools.cache
def terraform_plans() -> dict[str, dict[str, Any]]:
    """`terraform show -json` of each environment's plan, planned against a local moto server."""
    cache = PLAN_CACHE / _terraform_digest()
    if all((cache / f"{env}.json").is_file() for env in OVERLAYS):
        return {env: json.loads((cache / f"{env}.json").read_text()) for env in OVERLAYS}
    terraform = require_tool("terraform")
    with tempfile.TemporaryDirectory(prefix="tf-model-") as tmp:
        work = Path(tmp)
        moto = MotoServer(work / "moto.log")
        try:
            module = copy_module(work / "terraform")
            (module / "moto_override.tf").write_text(
                moto_override(moto.endpoint) + '\nterraform {\n  backend "local" {}\n}\n'
            )
            terraform_init(module, backend=True)
            plans = {}
            for env in OVERLAYS:
                args = ["-input=false", "-lock=false", f"-var-file=envs/{env}.tfvars", f"-out={env}.tfplan"]
                run([terraform, "plan", *args], cwd=module, env=terraform_env())
                shown = run([terraform, "show", "-json", f"{env}.tfplan"], cwd=module, env=terraform_env())
                plans[env] = json.loads(shown.stdout)
        finally:
            moto.stop()
    cache.mkdir(parents=True, exist_ok=True)
    for env, plan in plans.items():
        (cache / f"{env}.json").write_text(json.dumps(plan))
    return plans


@dataclass(frozen=True)
class Plan:
    """One environment's Terraform plan: planned resources by type, variables and configuration."""

    raw: dict[str, Any]

    def resources(self, rtype: str) -> list[dict[str, Any]]:
        """Planned managed resources of a type, each with `address`, `index` and its planned `after` values."""
        found = []
        for change in self.raw["resource_changes"]:
            if change["mode"] == "managed" and change["type"] == rtype:
                found.append(
                    {"address": change["address"], "index": change.get("index"), **(change["change"]["after"] or {})}
                )
        return found

    def data_sources(self, rtype: str) -> list[dict[str, Any]]:
        """Data sources of a type, each with `address`, `index` and its values: read at plan time (prior
        state) or deferred to apply because an input is unknown (then unknown values are None)."""
        read = [
            {"address": r["address"], "index": r.get("index"), **r["values"]}
            for r in self.raw.get("prior_state", {}).get("values", {}).get("root_module", {}).get("resources", [])
            if r["mode"] == "data" and r["type"] == rtype
        ]
        deferred = [
            {"address": change["address"], "index": change.get("index"), **(change["change"]["after"] or {})}
            for change in self.raw["resource_changes"]
            if change["mode"] == "data" and change["type"] == rtype
        ]
        return read + deferred

    def one(self, rtype: str) -> dict[str, Any]:
        found = self.resources(rtype)
        assert len(found) == 1, f"expected one {rtype}, planned {[r['address'] for r in found]}"
        return found[0]

    def variable(self, name: str) -> Any:
        return self.raw["variables"][name]["value"]

    def config_refs(self, address: str, attribute: str) -> list[str]:
        """References written in the configuration for one attribute (count/for_each index stripped)."""
        base = address.split("[")[0]
        for res in self.raw["configuration"]["root_module"]["resources"]:
            if res["address"] == base:
                return res["expressions"].get(attribute, {}).get("references", [])
        raise AssertionError(f"{base} not in configuration")


@dataclass(frozen=True)
class Environment:
    """Everything one environment is made of, as the real tools produce it."""

    name: str
    plan: Plan
    app: Rendered  # deploy/k8s/overlays/<name>
    platform: Rendered  # deploy/platform/overlays/<name>: operators, add-on settings, StorageClasses

    @property
    def namespace(self) -> str:
        return self.app.namespace


@functools.cache
def environment(name: str) -> Environment:
    app = Rendered(name, render(K8S_DIR / "overlays" / name))
    platform_dir = PLATFORM_DIR / "overlays" / name
    platform = Rendered(name, render(platform_dir) if platform_dir.is_dir() else [])
    return Environment(name=name, plan=Plan(terraform_plans()[name]), app=app, platform=platform)


def compose(name: str, *components: Path) -> Rendered:
    """The overlay NAME with on-demand COMPONENTS added to its components, as a runbook tells the operator to
    (the overlay's namespace applies to what they add)."""
    namespace = Rendered(name, render(K8S_DIR / "overlays" / name)).namespace
    with tempfile.TemporaryDirectory(prefix="kustomize-compose-") as tmp:

        def rel(path: Path) -> str:
            return os.path.relpath(path, tmp)  # kustomize refuses absolute paths

        listed = "".join(f"  - {rel(c)}\n" for c in components)
        (Path(tmp) / "kustomization.yaml").write_text(
            f"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {namespace}\n"
            f"resources:\n  - {rel(K8S_DIR / 'overlays' / name)}\ncomponents:\n{listed}"
        )
        return Rendered(name, render(Path(tmp)))


def restore_job_objects() -> list[dict[str, Any]]:
    """What an operator applies of deploy/k8s/jobs/restore: only the objects labelled for it (the kustomization
    renders the production overlay too, so that the Job's ConfigMap reference gets the hashed name)."""
    docs = render(K8S_DIR / "jobs" / "restore")
    return [d for d in docs if (d["metadata"].get("labels") or {}).get("hyperpage.io/on-demand") == "restore"]
