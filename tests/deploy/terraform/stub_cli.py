"""Stand-ins for aws, kubectl and terraform used by the deploy-script tests.

Every call is appended to $STUB_LOG as a JSON list (tool name first). $STUB_FAIL holds newline-separated
patterns "tool substring": a matching call fails with exit 1. $REAL_AWS forwards aws calls to the real CLI
(pointed at moto by the test); kubectl `kustomize` always runs the real kubectl named in $REAL_KUBECTL.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time


def main(tool: str, args: list[str]) -> int:
    with open(os.environ["STUB_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps([tool, *args]) + "\n")
    line = " ".join(args)
    for pattern in filter(None, os.environ.get("STUB_FAIL", "").splitlines()):
        name, _, needle = pattern.partition(" ")
        if name == tool and needle in line:
            print(f"{tool} stub: failing '{line}' as asked", file=sys.stderr)
            return 1
    if tool == "aws":
        return aws(args)
    if tool == "kubectl":
        return kubectl(args)
    if tool == "helm":
        return 0
    return terraform(args)


def aws(args: list[str]) -> int:
    if os.environ.get("REAL_AWS"):
        os.execv(os.environ["REAL_AWS"], ["aws", *args])
    if args[:1] == ["--version"]:
        print("aws-cli/2.0.0 stub")
    elif args[:2] == ["sts", "get-caller-identity"]:
        print("123456789012")
    elif args[:2] in (["s3api", "head-bucket"], ["dynamodb", "describe-table"]):
        return 0 if os.environ.get("STUB_BACKEND_EXISTS") else 254
    return 0


def kubectl(args: list[str]) -> int:
    if args[:1] == ["kustomize"]:
        os.execv(os.environ["REAL_KUBECTL"], ["kubectl", *args])
    if args[:2] == ["version", "--client"]:
        print(json.dumps({"clientVersion": {"gitVersion": "v1.32.0"}}))
    elif "port-forward" in args:
        # The test serves the health endpoint itself; the forward only has to stay up until killed.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        local_port = args[-1].split(":")[0]
        print(f"Forwarding from 127.0.0.1:{local_port} -> {args[-1].split(':')[1]}", flush=True)
        time.sleep(300)
    return 0


def terraform(args: list[str]) -> int:
    if args[:1] == ["version"]:
        print(json.dumps({"terraform_version": "1.11.4"}))
    elif args[-2:] == ["-raw", "cluster_name"]:
        print("hyperpage-production", end="")
    elif args[-1:] == ["next_steps"]:
        print("1. aws eks update-kubeconfig ...")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
