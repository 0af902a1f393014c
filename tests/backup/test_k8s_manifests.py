"""The backup component's manifests: rendered by kubectl kustomize, validated by kubernetes-validate --strict,
custom resources against the CRD schemas (strictly: unknown fields fail), and scanned by checkov."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.tooling import REPO_ROOT, require_tool

COMPONENT = REPO_ROOT / "deploy/k8s/components/backup"
TEST_KUSTOMIZATIONS = Path(__file__).parent / "k8s"
RENDERS = {
    "statefulset": TEST_KUSTOMIZATIONS / "statefulset",
    "cnpg": TEST_KUSTOMIZATIONS / "cnpg",
    "restore": REPO_ROOT / "deploy/k8s/jobs/restore",
    "snapshots": COMPONENT / "snapshots",
    "cnpg-recovery": TEST_KUSTOMIZATIONS / "cnpg-recovery",
}
BUILTIN_GROUPS = {"", "apps", "batch", "networking.k8s.io", "policy", "rbac.authorization.k8s.io"}


def _crd_dir() -> Path:
    """shared/schemas/crds beside the repository (../shared), or above a worktree; HYPERPAGE_CRD_SCHEMAS wins."""
    override = os.environ.get("HYPERPAGE_CRD_SCHEMAS")
    candidates = [Path(override)] if override else [p / "shared/schemas/crds" for p in REPO_ROOT.parents]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    pytest.fail(
        f"CRD schemas not found (looked in {', '.join(map(str, candidates[:3]))}); set HYPERPAGE_CRD_SCHEMAS",
        pytrace=False,
    )


def _render(path: Path) -> str:
    kubectl = require_tool("kubectl")
    proc = subprocess.run([kubectl, "kustomize", str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    found = {name: _render(path) for name, path in RENDERS.items()}
    # jobs/restore renders the production overlay too (for its hashed ConfigMap names); keep only the Job.
    on_demand = [
        d
        for d in yaml.safe_load_all(found["restore"])
        if d and d["metadata"].get("labels", {}).get("hyperpage.io/on-demand") == "restore"
    ]
    found["restore"] = yaml.safe_dump_all(on_demand)
    return found


def _docs(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def _venv_tool(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else require_tool(name)


@pytest.mark.parametrize("name", RENDERS)
def test_core_kinds_validate_strictly(rendered: dict[str, str], name: str) -> None:
    proc = subprocess.run(
        [_venv_tool("kubernetes-validate"), "-k", "1.30.0", "--strict", "-"],
        input=rendered[name],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ERROR" not in proc.stdout


def _strict(schema: Any) -> Any:
    """Forbid properties a schema does not list (where it lists any), so a misspelled field fails."""
    if isinstance(schema, dict):
        schema = {k: _strict(v) for k, v in schema.items()}
        if (
            schema.get("type") == "object"
            and "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
    elif isinstance(schema, list):
        schema = [_strict(v) for v in schema]
    return schema


@pytest.mark.parametrize("name", RENDERS)
def test_custom_resources_match_their_crd_schemas(rendered: dict[str, str], name: str) -> None:
    crds = _crd_dir()
    for doc in _docs(rendered[name]):
        group, _, version = doc["apiVersion"].rpartition("/")
        if group in BUILTIN_GROUPS:
            continue
        schema_file = crds / group / f"{doc['kind'].lower()}_{version}.json"
        assert schema_file.exists(), f"no schema for {doc['apiVersion']} {doc['kind']}"
        schema = _strict(json.loads(schema_file.read_text()))
        body = copy.deepcopy(doc)
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(body), key=str)
        assert not errors, f"{doc['kind']}/{doc['metadata']['name']}: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]
        )


def test_checkov_passes(rendered: dict[str, str], tmp_path: Path) -> None:
    checkov = require_tool("checkov", hint="scripts/deps/40-checkov.sh")
    for name, text in rendered.items():
        (tmp_path / f"{name}.yaml").write_text(text)
    proc = subprocess.run(
        [checkov, "-d", str(tmp_path), "--framework", "kubernetes", "--compact", "--quiet", "--skip-download"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]


def _by_kind(text: str, kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in _docs(text) if d["kind"] == kind}


def _pod_specs(text: str) -> dict[str, dict[str, Any]]:
    specs = {n: d["spec"]["jobTemplate"]["spec"]["template"] for n, d in _by_kind(text, "CronJob").items()}
    specs.update({n: d["spec"]["template"] for n, d in _by_kind(text, "Job").items()})
    return specs


@pytest.mark.parametrize("name", ["statefulset", "cnpg", "restore"])
def test_backup_pods_are_locked_down_like_the_app(rendered: dict[str, str], name: str) -> None:
    pods = _pod_specs(rendered[name])
    assert pods
    for pod_name, template in pods.items():
        labels = dict(template["metadata"]["labels"])
        # Run-to-completion pods stay out of the mesh (a sidecar would keep the Job running; Istio docs,
        # "Installing the sidecar": the sidecar.istio.io/inject label).
        assert labels.pop("sidecar.istio.io/inject", "false") == "false", pod_name
        assert labels == {"app.kubernetes.io/name": "hyperpage", "app.kubernetes.io/component": "backup"}, pod_name
        spec = template["spec"]
        assert spec["automountServiceAccountToken"] is False
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        if not pod_name.startswith("hyperpage-pgbackrest"):
            assert (
                spec["securityContext"]["runAsUser"],
                spec["securityContext"]["runAsGroup"],
                spec["securityContext"]["fsGroup"],
            ) == (1001, 1001, 1001)
        for container in spec.get("initContainers", []) + spec["containers"]:
            ctx = container["securityContext"]
            assert ctx["readOnlyRootFilesystem"] is True and ctx["allowPrivilegeEscalation"] is False
            assert ctx["capabilities"] == {"drop": ["ALL"]}
            assert any(m["mountPath"] == "/tmp" for m in container["volumeMounts"])
        assert any(v["name"] == "tmp" and "emptyDir" in v for v in spec["volumes"])


def test_daily_backup_schedule_and_job_limits(rendered: dict[str, str]) -> None:
    cronjobs = _by_kind(rendered["statefulset"], "CronJob")
    daily, weekly = cronjobs["hyperpage-backup"]["spec"], cronjobs["hyperpage-backup-verify"]["spec"]
    assert daily["schedule"] == "0 2 * * *" and weekly["schedule"] == "0 4 * * 0"
    for spec in (
        daily,
        weekly,
        cronjobs["hyperpage-pgbackrest-full"]["spec"],
        cronjobs["hyperpage-pgbackrest-diff"]["spec"],
    ):
        assert spec["concurrencyPolicy"] == "Forbid"
        assert spec["successfulJobsHistoryLimit"] >= 1 and spec["failedJobsHistoryLimit"] >= 1
        assert spec["jobTemplate"]["spec"]["backoffLimit"] <= 3
    pod = daily["jobTemplate"]["spec"]["template"]["spec"]
    assert [c["args"] for c in pod["initContainers"]] == [["backup", "create"]]
    assert [c["args"] for c in pod["containers"]] == [["backup", "prune"]]  # prune only after a good dump
    pvc = _by_kind(rendered["statefulset"], "PersistentVolumeClaim")["hyperpage-backups"]
    assert pvc["spec"]["storageClassName"] == "sc1-backups"  # the overlay's cheaper class applies


def test_network_policy_allows_exactly_database_dns_and_https(rendered: dict[str, str]) -> None:
    policy = _by_kind(rendered["cnpg"], "NetworkPolicy")["hyperpage-backup-egress"]["spec"]
    assert policy["podSelector"] == {"matchLabels": {"app.kubernetes.io/component": "backup"}}
    ports = {(p["port"], p["protocol"]) for rule in policy["egress"] for p in rule["ports"]}
    assert ports == {(5432, "TCP"), (8432, "TCP"), (53, "UDP"), (53, "TCP"), (443, "TCP")}
    ingress = _by_kind(rendered["cnpg"], "NetworkPolicy")["hyperpage-database-from-backup"]["spec"]
    assert ingress["ingress"][0]["from"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/component": "backup"}}}
    ]


def test_s3_option_drops_the_volume(rendered: dict[str, str]) -> None:
    assert "PersistentVolumeClaim" not in {d["kind"] for d in _docs(rendered["cnpg"])}
    config = _by_kind(rendered["cnpg"], "ConfigMap")["hyperpage-backup-config"]["data"]
    assert config["HYPERPAGE_BACKUP_DESTINATION"].startswith("s3://")
    for template in _pod_specs(rendered["cnpg"]).values():
        volumes = {v["name"]: v for v in template["spec"]["volumes"]}
        assert "persistentVolumeClaim" not in volumes["backups"]


def test_pgbackrest_archives_wal_with_a_settable_timeout(rendered: dict[str, str]) -> None:
    sts = _by_kind(rendered["statefulset"], "StatefulSet")["hyperpage-postgres"]["spec"]["template"]["spec"]
    postgres = next(c for c in sts["containers"] if c["name"] == "postgres")
    args = " ".join(postgres["args"])
    assert "archive_mode=on" in args and "archive-push %p" in args and "archive_timeout=$(ARCHIVE_TIMEOUT)" in args
    assert postgres["env"][0]["valueFrom"]["configMapKeyRef"]["key"] == "archive_timeout"
    settings = next(
        d
        for n, d in _by_kind(rendered["statefulset"], "ConfigMap").items()
        if n.startswith("hyperpage-pgbackrest-settings")
    )
    assert int(settings["data"]["archive_timeout"]) <= 60  # the RPO target is under a minute
    assert {c["name"] for c in sts["containers"]} == {"postgres", "pgbackrest"}


def test_cnpg_recovery_restores_to_a_target_time(rendered: dict[str, str]) -> None:
    cluster = _by_kind(rendered["cnpg-recovery"], "Cluster")["hyperpage-db-pitr"]["spec"]
    assert cluster["bootstrap"]["recovery"]["recoveryTarget"]["targetTime"]
    origin = cluster["externalClusters"][0]["plugin"]["parameters"]
    archiver = cluster["plugins"][0]["parameters"]
    assert origin["serverName"] != archiver["serverName"]  # never archive into the origin's WAL
    scheduled = _by_kind(rendered["cnpg"], "ScheduledBackup")["hyperpage-db-weekly"]["spec"]
    assert len(scheduled["schedule"].split()) == 6  # CloudNativePG's cron has a seconds field
    patched = _by_kind(rendered["cnpg"], "Cluster")["hyperpage-db"]["spec"]["postgresql"]["parameters"]
    assert patched["archive_timeout"] == "30s"


def test_the_crd_check_catches_a_misspelled_field(rendered: dict[str, str]) -> None:
    cluster = _by_kind(rendered["cnpg-recovery"], "Cluster")["hyperpage-db-pitr"]
    target = cluster["spec"]["bootstrap"]["recovery"]["recoveryTarget"]
    target["targetTme"] = target.pop("targetTime")
    schema = _strict(json.loads((_crd_dir() / "postgresql.cnpg.io/cluster_v1.json").read_text()))
    assert any("targetTme" in e.message for e in jsonschema.Draft7Validator(schema).iter_errors(cluster))
