"""Runs scripts/deploy-terraform.sh inside a throwaway copy of the repository, with recording stand-ins
(stub_cli.py) for aws, kubectl, helm and terraform, and a local server answering /api/health."""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.deploy.terraform.harness import copy_module, provider_mirror, run, terraform_env
from tests.tooling import REPO_ROOT, free_port, require_tool

HERE = Path(__file__).resolve().parent
HEALTHY = {"status": "healthy", "database": {"status": "up"}}


class HealthServer:
    """Answers GET /api/health with whatever the test sets, on 127.0.0.1."""

    def __init__(self) -> None:
        self.status, self.body = 200, HEALTHY
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                payload = json.dumps(owner.body).encode()
                self.send_response(owner.status if self.path == "/api/health" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.port = free_port()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class Deployment:
    root: Path
    bin_dir: Path
    log: Path
    env: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str, stdin: str = "", timeout: float = 600):
        proc = run(
            ["bash", str(self.root / "scripts" / "deploy-terraform.sh"), *args],
            cwd=self.root,
            env=self.env,
            stdin=stdin,
            timeout=timeout,
            check=False,
        )
        return proc

    def calls(self, tool: str | None = None) -> list[list[str]]:
        if not self.log.exists():
            return []
        rows = [json.loads(line) for line in self.log.read_text().splitlines()]
        return [r for r in rows if tool is None or r[0] == tool]

    def commands(self) -> list[str]:
        return [" ".join(r) for r in self.calls()]


def make_deployment(base: Path, stubs: tuple[str, ...], health_port: int) -> Deployment:
    root = base / "repo"
    (root / "scripts").mkdir(parents=True)
    shutil.copy2(REPO_ROOT / "scripts" / "deploy-terraform.sh", root / "scripts")
    copy_module(root / "deploy" / "terraform")
    shutil.copytree(HERE / "fixtures" / "k8s", root / "deploy" / "k8s")
    for env in ("development", "staging", "production"):
        shutil.copytree(HERE / "fixtures" / "argocd", root / "deploy" / "argocd" / "overlays" / env)
    shutil.copytree(REPO_ROOT / "deploy" / "platform", root / "deploy" / "platform")
    bin_dir = base / "bin"
    bin_dir.mkdir()
    for tool in stubs:
        wrapper = bin_dir / tool
        wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{HERE / "stub_cli.py"}" {tool} "$@"\n')
        wrapper.chmod(0o755)
    env = terraform_env(
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        STUB_LOG=str(base / "calls.jsonl"),
        REAL_KUBECTL=require_tool("kubectl"),
        HEALTH_LOCAL_PORT=str(health_port),
        ROLLOUT_TIMEOUT="30s",
        TF_PLUGIN_DIR=str(provider_mirror()),
        KUBECONFIG=str(base / "kubeconfig"),
        HOME=str(base),
    )
    return Deployment(root=root, bin_dir=bin_dir, log=base / "calls.jsonl", env=env)
