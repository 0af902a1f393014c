"""scripts/deploy-terraform.sh with recording stand-ins for aws, kubectl and (after-apply cases) terraform.

The script runs inside a copy of the repository in a temp dir, with small fixture overlays standing in for
deploy/k8s and deploy/argocd, and a local HTTP server answering /api/health where the port-forward points.
The infrastructure half against a real terraform and moto lives in test_moto_apply.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.deploy.terraform.scripted import Deployment, HealthServer, make_deployment
from tests.tooling import REPO_ROOT

pytestmark = pytest.mark.tools


@pytest.fixture
def health() -> Iterator[HealthServer]:
    server = HealthServer()
    yield server
    server.stop()


@pytest.fixture
def stubbed(tmp_path: Path, health: HealthServer) -> Deployment:
    """aws, kubectl and terraform all stand-ins: for the steps after apply and for failure handling."""
    return make_deployment(tmp_path, ("aws", "kubectl", "helm", "terraform"), health.port)


def index_of(commands: list[str], prefix: str) -> int:
    for i, command in enumerate(commands):
        if command.startswith(prefix):
            return i
    raise AssertionError(f"no call starting with {prefix!r} in:\n" + "\n".join(commands))


def test_full_run_calls_every_step_in_order(stubbed: Deployment) -> None:
    proc = stubbed.run("--auto-approve", "prod")
    assert proc.returncode == 0, proc.stderr
    commands = stubbed.commands()
    overlay = str(stubbed.root / "deploy/k8s/overlays/production")
    steps = [
        "aws sts get-caller-identity",
        "aws s3api head-bucket --bucket hyperpage-terraform-state-production",
        "aws s3api create-bucket --bucket hyperpage-terraform-state-production --region us-east-1",
        "aws s3api put-bucket-versioning",
        "aws s3api put-bucket-encryption",
        "aws s3api put-public-access-block",
        "aws dynamodb describe-table --table-name hyperpage-terraform-locks",
        "aws dynamodb create-table --table-name hyperpage-terraform-locks",
        "aws dynamodb wait table-exists",
        f"terraform -chdir={stubbed.root}/deploy/terraform init",
        f"terraform -chdir={stubbed.root}/deploy/terraform plan",
        f"terraform -chdir={stubbed.root}/deploy/terraform apply",
        "aws eks update-kubeconfig --region us-east-1 --name hyperpage-production",
        f"kubectl kustomize {overlay}",
        f"kubectl apply -k {overlay}",
        "kubectl -n hyperpage-production wait job/hyperpage-migrate --for=condition=complete",
        "kubectl -n hyperpage-production rollout status deployment/hyperpage-web",
        "kubectl -n hyperpage-production get hpa/hyperpage-web",
        "kubectl -n hyperpage-production port-forward svc/hyperpage-web",
    ]
    positions = [index_of(commands, step) for step in steps]
    assert positions == sorted(positions), "steps ran out of order"
    envs = stubbed.root / "deploy/terraform/envs"
    assert f"-backend-config={envs}/production.backend.hcl" in commands[positions[9]]
    assert f"-var-file={envs}/production.tfvars" in commands[positions[10]]
    assert "PostgreSQL up" in proc.stdout and "next steps:" in proc.stdout


def test_existing_state_backend_is_reused(stubbed: Deployment) -> None:
    stubbed.env["STUB_BACKEND_EXISTS"] = "1"
    proc = stubbed.run("--auto-approve", "staging", "eu-west-1")
    assert proc.returncode == 0, proc.stderr
    commands = stubbed.commands()
    assert not [c for c in commands if "create-bucket" in c or "create-table" in c]
    assert any(c.startswith("aws eks update-kubeconfig --region eu-west-1") for c in commands)
    assert any("-backend-config=region=eu-west-1" in c for c in commands)


def test_development_has_no_hpa_to_check(stubbed: Deployment) -> None:
    proc = stubbed.run("--auto-approve", "dev")
    assert proc.returncode == 0, proc.stderr
    assert not [c for c in stubbed.commands() if "get hpa" in c]
    assert "no HPA" in proc.stdout


def test_declined_confirmation_applies_nothing(stubbed: Deployment) -> None:
    proc = stubbed.run("production", stdin="no\n")
    assert proc.returncode != 0
    assert "not applied" in proc.stderr
    terraform_calls = [c[2] if c[1].startswith("-chdir") else c[1] for c in stubbed.calls("terraform")]
    assert "plan" in terraform_calls and "apply" not in terraform_calls
    assert not stubbed.calls("kubectl")[1:], "nothing after the plan may touch the cluster"


def test_confirmation_yes_applies(stubbed: Deployment) -> None:
    proc = stubbed.run("production", stdin="yes\n")
    assert proc.returncode == 0, proc.stderr
    assert any(c[2] == "apply" for c in stubbed.calls("terraform") if len(c) > 2)


def test_missing_credentials_stop_before_terraform(stubbed: Deployment) -> None:
    stubbed.env["STUB_FAIL"] = "aws sts get-caller-identity"
    proc = stubbed.run("--auto-approve", "production")
    assert proc.returncode != 0
    assert "credentials" in proc.stderr
    assert [c for c in stubbed.commands() if c.startswith("terraform")] == ["terraform version -json"]


def test_failed_migration_stops_before_health_check(stubbed: Deployment) -> None:
    stubbed.env["STUB_FAIL"] = "kubectl wait job/hyperpage-migrate"
    proc = stubbed.run("--auto-approve", "production")
    assert proc.returncode != 0
    assert "migration job hyperpage-migrate did not complete" in proc.stderr
    assert not [c for c in stubbed.commands() if "rollout status" in c or "port-forward" in c]


def test_unhealthy_database_fails_validation(stubbed: Deployment, health: HealthServer) -> None:
    health.status, health.body = 503, {"status": "unhealthy", "database": {"status": "down"}}
    proc = stubbed.run("--auto-approve", "production")
    assert proc.returncode != 0
    assert "/api/health answered 503" in proc.stderr


def test_gitops_hands_over_to_argo_cd(stubbed: Deployment) -> None:
    proc = stubbed.run("--auto-approve", "--gitops", "production")
    assert proc.returncode == 0, proc.stderr
    commands = stubbed.commands()
    argocd = str(stubbed.root / "deploy/argocd/overlays/production")
    first = index_of(commands, f"kubectl apply -k {argocd}")
    sync = index_of(commands, "kubectl -n argocd patch application hyperpage-production")
    synced = index_of(
        commands,
        "kubectl -n argocd wait application/hyperpage-production "
        "--for=jsonpath={.status.operationState.phase}=Succeeded",
    )
    assert first < sync < synced < index_of(commands, "kubectl -n hyperpage-production rollout status")
    assert not [c for c in commands if c.startswith("kubectl apply -k") and "deploy/k8s/overlays" in c]
    # Argo CD reports a Pending PVC as Progressing (argo-cd.readthedocs.io, "Resource Health"), and the backup
    # volume binds only at the first 02:00 backup (WaitForFirstConsumer): waiting for Healthy would time out.
    assert not [c for c in commands if "application/hyperpage-production" in c and "health.status" in c]


def test_rerun_replaces_the_finished_migration_job(stubbed: Deployment) -> None:
    # A Job's .spec.template is immutable (kubernetes.io/docs/concepts/workloads/controllers/job/): applying a
    # new release over the Job the last run left (ttlSecondsAfterFinished 24 h) fails with "field is immutable".
    proc = stubbed.run("--auto-approve", "production")
    commands = stubbed.commands()
    delete = index_of(commands, "kubectl -n hyperpage-production delete job hyperpage-migrate --ignore-not-found")
    assert delete < index_of(commands, f"kubectl apply -k {stubbed.root}/deploy/k8s/overlays/production")
    assert proc.returncode == 0, proc.stderr


def test_bring_up_follows_the_documented_order(stubbed: Deployment) -> None:
    # docs/kubernetes.md, "Bringing up a fresh account": Terraform (with add-ons), kubeconfig, Argo CD at the
    # chart version its own Application pins, the platform root Application and its waves, then the app.
    proc = stubbed.run("--auto-approve", "production")
    assert proc.returncode == 0, proc.stderr
    commands = stubbed.commands()
    pinned = yaml.safe_load((REPO_ROOT / "deploy/platform/base/argo-cd.yaml").read_text())
    version = next(s["targetRevision"] for s in pinned["spec"]["sources"] if "chart" in s)
    platform = str(stubbed.root / "deploy/platform")
    steps = [
        "terraform -chdir=",  # apply
        "aws eks update-kubeconfig",
        f"helm upgrade --install argocd argo-cd --repo https://argoproj.github.io/argo-helm --version {version}",
        f"kubectl apply -f {platform}/base/appproject.yaml -f {platform}/overlays/production/root-application.yaml",
        "kubectl -n argocd wait application/platform --for=jsonpath={.status.health.status}=Healthy",
        "kubectl apply -k",
    ]
    positions = [
        index_of(commands, step)
        if i
        else next(n for n, c in enumerate(commands) if c.startswith(step) and " apply " in c)
        for i, step in enumerate(steps)
    ]
    assert positions == sorted(positions), list(zip(steps, positions, strict=True))


def test_unknown_environment_is_refused(stubbed: Deployment) -> None:
    proc = stubbed.run("qa")
    assert proc.returncode != 0
    assert "unknown environment 'qa'" in proc.stderr
    assert stubbed.calls() == []


def test_dry_run_touches_neither_aws_nor_a_cluster(tmp_path: Path, health: HealthServer) -> None:
    deployment = make_deployment(tmp_path, ("aws", "kubectl", "helm"), health.port)  # real terraform
    proc = deployment.run("--dry-run", "production")
    assert proc.returncode == 0, proc.stderr
    assert "The configuration is valid" in proc.stdout
    assert [c for c in deployment.calls("aws") if c[1:] != ["--version"]] == []
    kubectl = [c[1] for c in deployment.calls("kubectl")]
    assert set(kubectl) == {"version", "kustomize"}
    skipped = [line for line in proc.stdout.splitlines() if line.startswith("[dry-run] skipped: ")]
    for step in (
        "aws s3api head-bucket",
        "terraform plan",
        "aws eks update-kubeconfig",
        "kubectl apply -k",
        "port-forward svc/hyperpage-web",
        "wait job/hyperpage-migrate",
    ):
        assert any(step in line for line in skipped), f"{step} not listed as skipped"
    assert not (deployment.root / "deploy/terraform/.terraform").exists(), "dry run left init state behind"


async def test_health_check_reads_the_real_apps_answer(stubbed: Deployment, health: HealthServer, client) -> None:
    # Contract with src/hyperpage/api/health.py: the script must accept what the app really answers.
    answer = await client.get("/api/health")
    health.status, health.body = answer.status_code, answer.json()
    proc = await asyncio.to_thread(stubbed.run, "--auto-approve", "production")
    assert answer.status_code == 200
    assert proc.returncode == 0, proc.stderr
    assert "/api/health: healthy, PostgreSQL up" in proc.stdout
