"""Shared plumbing for the Terraform checks: the offline provider mirror, throwaway copies of the module,
and a moto server on 127.0.0.1 standing in for AWS."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.tooling import REPO_ROOT, free_port, require_tool

TF_SOURCE = REPO_ROOT / "deploy" / "terraform"
ENVIRONMENTS = ("development", "staging", "production")
# The account envs/*.tfvars name in aws_account_id (which the configuration requires the credentials to belong to);
# moto answers as that account when MOTO_ACCOUNT_ID says so (moto docs: "Multi-Account support").
MOTO_ACCOUNT = "111122223333"
# Terraform's documented implicit mirror locations, searched before scanning the whole disk.
_WELL_KNOWN_MIRRORS = (
    Path.home() / ".terraform.d" / "plugins",
    Path("/usr/local/share/terraform/plugins"),
    Path("/usr/share/terraform/plugins"),
)


def _mirror_root(provider_binary: Path) -> Path:
    # <root>/registry.terraform.io/hashicorp/aws/<version>/<os_arch>/terraform-provider-aws_...
    return provider_binary.parents[5]


@functools.cache
def provider_mirror() -> Path:
    """Root of the filesystem mirror holding hashicorp/aws (the folder containing registry.terraform.io)."""
    if os.environ.get("TF_PLUGIN_DIR"):
        return Path(os.environ["TF_PLUGIN_DIR"])
    for root in _WELL_KNOWN_MIRRORS:
        found = sorted(root.glob("registry.terraform.io/hashicorp/aws/*/*/terraform-provider-aws*"))
        if found:
            return _mirror_root(found[-1])
    out = subprocess.run(
        ["find", "/", "-name", "terraform-provider-aws*", "-not", "-path", "/proc/*", "-not", "-path", "/sys/*"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    ).stdout.split()
    binaries = [Path(p) for p in out if "/registry.terraform.io/hashicorp/aws/" in p]
    if not binaries:
        pytest.fail("no offline mirror of hashicorp/aws found (set TF_PLUGIN_DIR)", pytrace=False)
    return _mirror_root(sorted(binaries)[-1])


def terraform_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_VAR_"))}
    # The image points TF_CLI_CONFIG_FILE at a file that may not exist; terraform then warns on every call.
    if env.get("TF_CLI_CONFIG_FILE") and not Path(env["TF_CLI_CONFIG_FILE"]).exists():
        env.pop("TF_CLI_CONFIG_FILE")
    env.update(TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1", TF_INPUT="0")
    env.update(extra)
    return env


def copy_module(dest: Path) -> Path:
    """Copy deploy/terraform without any local state, so .terraform and state files live only in dest."""
    shutil.copytree(TF_SOURCE, dest, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", "*.tfplan"))
    return dest


def run(
    cmd: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
    check: bool = True,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, input=stdin, check=False
    )
    if check and proc.returncode != 0:
        pytest.fail(
            f"{' '.join(cmd[:3])} exited {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}"
            f"\n--- stderr\n{proc.stderr[-4000:]}",
            pytrace=False,
        )
    return proc


def terraform_init(module: Path, *, backend: bool = False) -> None:
    args = [require_tool("terraform"), "init", "-input=false", f"-plugin-dir={provider_mirror()}"]
    if not backend:
        args.append("-backend=false")
    run(args, cwd=module, env=terraform_env())


def moto_override(endpoint: str) -> str:
    """Provider and backend settings that send every AWS call to the local moto server."""
    services = ("ec2", "eks", "iam", "kms", "logs", "s3", "sts", "rds", "dynamodb")
    endpoints = "\n".join(f'    {s} = "{endpoint}"' for s in services)
    return f"""
provider "aws" {{
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  s3_use_path_style           = true
  endpoints {{
{endpoints}
  }}
}}
"""


class MotoServer:
    """moto_server on 127.0.0.1 and a free port, with AWS managed policies loaded for the IAM attachments."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._log = log_path.open("wb")
        env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true", "MOTO_ACCOUNT_ID": MOTO_ACCOUNT}
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                pytest.fail(f"moto_server exited early, see {log_path}", pytrace=False)
            try:
                urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        pytest.fail("moto_server did not answer within 30 s", pytrace=False)

    def client(self, service: str):  # boto3 client bound to this server
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def stop(self) -> None:
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=10)
        self._log.close()
