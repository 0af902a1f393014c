"""fmt, init from the offline mirror, validate, `terraform test` (mocked provider), checkov, shellcheck."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.deploy.terraform.harness import (
    ENVIRONMENTS,
    TF_SOURCE,
    copy_module,
    run,
    terraform_env,
    terraform_init,
)
from tests.tooling import REPO_ROOT, require_tool

pytestmark = pytest.mark.tools
ARTIFACTS = REPO_ROOT / "test-artifacts" / "terraform"


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of deploy/terraform initialised without a backend; .terraform stays in the temp dir."""
    copy = copy_module(tmp_path_factory.mktemp("tf") / "terraform")
    terraform_init(copy)
    return copy


def terraform_test(module: Path, *args: str, check: bool = True):
    return run(
        [require_tool("terraform"), "test", "-no-color", *args],
        cwd=module,
        env=terraform_env(),
        timeout=600,
        check=check,
    )


def test_formatting_is_canonical() -> None:
    proc = run(
        [require_tool("terraform"), "fmt", "-check", "-recursive", "-diff", "-no-color"],
        cwd=TF_SOURCE,
        env=terraform_env(),
        check=False,
    )
    assert proc.returncode == 0, f"terraform fmt would change:\n{proc.stdout}"


def test_configuration_validates(module: Path) -> None:
    proc = run([require_tool("terraform"), "validate", "-json"], cwd=module, env=terraform_env())
    result = json.loads(proc.stdout)
    assert result["valid"], result["diagnostics"]
    assert result["warning_count"] == 0, result["diagnostics"]


def test_lock_file_pins_the_mirrored_provider(module: Path) -> None:
    # init must not have rewritten the committed lock file: the mirror's package matches its hash.
    assert (module / ".terraform.lock.hcl").read_text() == (TF_SOURCE / ".terraform.lock.hcl").read_text()


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_environment_facts_with_mocked_provider(module: Path, env: str) -> None:
    proc = terraform_test(
        module, f"-var-file=envs/{env}.tfvars", f"-filter=tests/{env}.tftest.hcl", "-filter=tests/security.tftest.hcl"
    )
    assert "0 failed" in proc.stdout and "pass" in proc.stdout


def test_invalid_variables_are_refused(module: Path) -> None:
    proc = terraform_test(module, "-filter=tests/validation.tftest.hcl")
    assert "6 passed, 0 failed" in proc.stdout


def test_terraform_tests_catch_a_regression(module: Path) -> None:
    # Production forced onto one NAT gateway must fail the production assertions, or they test nothing.
    proc = terraform_test(
        module,
        "-var-file=envs/production.tfvars",
        "-var=single_nat_gateway=true",
        "-filter=tests/production.tftest.hcl",
        check=False,
    )
    assert proc.returncode != 0
    assert "one NAT gateway per zone" in proc.stdout + proc.stderr


def test_checkov_finds_no_failed_check() -> None:
    checkov = require_tool("checkov", hint="scripts/deps/40-checkov.sh")
    proc = run(
        [checkov, "-d", str(TF_SOURCE), "--framework", "terraform", "--skip-download", "--compact", "-o", "json"],
        check=False,
        timeout=600,
    )
    report = json.loads(proc.stdout)
    summary = report["summary"]
    failed = [(c["check_id"], c["resource"], c["check_name"]) for c in report["results"]["failed_checks"]]
    assert proc.returncode == 0 and summary["failed"] == 0, failed
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 0
    skipped = report["results"]["skipped_checks"]
    reasons = {(c["check_id"], c["resource"]): c["check_result"].get("suppress_comment", "") for c in skipped}
    assert all(len(reason) > 20 for reason in reasons.values()), "every checkov skip needs its reason"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    skips = [{"check": k[0], "resource": k[1], "reason": v} for k, v in reasons.items()]
    (ARTIFACTS / "checkov.json").write_text(json.dumps({"summary": summary, "skipped": skips}, indent=2))


def test_shell_scripts_pass_shellcheck() -> None:
    scripts = ["scripts/deploy-terraform.sh", "scripts/deps/40-checkov.sh", "scripts/deps/45-terraform.sh"]
    proc = run(
        [require_tool("shellcheck", hint="scripts/deps/45-terraform.sh"), "-x", *scripts], cwd=REPO_ROOT, check=False
    )
    assert proc.returncode == 0, proc.stdout
