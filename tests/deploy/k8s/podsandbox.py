"""Run a container's command the way its pod spec says: uid/gid 1001, no capabilities, no new privileges,
a read-only root filesystem with only a fresh /tmp writable, and the Secret volume files at their paths.

The isolation is a private mount namespace (`unshare --mount`), so nothing changes for the host: inside it
every filesystem is remounted read-only, /tmp becomes an empty tmpfs (the pod's emptyDir) and the Secret
files appear under their mount path on a small read-only tmpfs. Directories the image would make readable
but this machine does not (the Python install under /root) are bind-mounted through a read-only tmpfs.
A checkout or venv under /tmp (the image has the app elsewhere) is bound into the fresh /tmp, read-only.
"""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from tests.tooling import require_tool

PSEUDO_FILESYSTEMS = ("/proc", "/sys", "/dev")


def _hidden_ancestors(path: Path) -> list[tuple[Path, str]]:
    """(directory, child) pairs on PATH's way that other users cannot traverse."""
    found = []
    parts = path.resolve().parts
    for depth in range(1, len(parts) - 1):
        directory = Path(*parts[:depth])
        if directory != Path("/") and not os.stat(directory).st_mode & stat.S_IXOTH:
            found.append((directory, parts[depth]))
    return found


def _code_under_tmp() -> list[Path]:
    """The interpreter, venv and checkout directories that lie under /tmp, outermost only."""
    checkout = Path(__file__).resolve().parents[3]
    candidates = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).parent, checkout}
    tmp = Path("/tmp")
    under = {r for r in (Path(os.path.realpath(c)) for c in candidates) if tmp in r.parents}
    return sorted(p for p in under if not any(other in p.parents for other in under))


def _fresh_tmp(stage: Path) -> list[str]:
    """Mount the pod's empty /tmp. It is built on a mount point in STAGE, with the code under the host's /tmp
    bound into it, and then moved over /tmp: mounted on /tmp directly, it would hide that code."""
    fresh = stage / "fresh-tmp"
    fresh.mkdir()
    lines = [f"mount -t tmpfs -o mode=1777,size=64m tmpfs {fresh}"]
    for path in _code_under_tmp():
        target = fresh / path.relative_to("/tmp")
        lines += [f"mkdir -p {target}", f"mount --no-mtab --rbind {path} {target}"]
    lines.append(f"mount --no-mtab --move {fresh} /tmp")
    return lines


def _script(stage: Path, secrets: dict[str, str], command: list[str], env: dict[str, str], uid: int) -> str:
    lines = ["set -eu", "mount --make-rprivate /"]
    # The interpreter, the venv and the source tree (an editable install) must all stay reachable.
    needed = {Path(sys.executable), Path(sys.base_prefix), Path(__file__)}
    hidden: dict[Path, set[str]] = {}
    for directory, child in (h for p in needed for h in _hidden_ancestors(p)):
        hidden.setdefault(directory, set()).add(child)
    for directory, children in sorted(hidden.items()):
        keeps = {child: stage / f"bind-{len(lines)}-{child}" for child in sorted(children)}
        for child, keep in keeps.items():
            keep.mkdir()
            lines.append(f"mount --bind {directory / child} {keep}")
        lines.append(f"mount -t tmpfs -o mode=755,size=1m tmpfs {directory}")
        for child, keep in keeps.items():
            lines += [f"mkdir {directory / child}", f"mount --move {keep} {directory / child}"]
        lines.append(f"mount -o remount,ro {directory}")
    bases = []
    for directory in sorted({os.path.realpath(Path(p).parent) for p in secrets}):
        resolved = Path(directory)
        base = next(a for a in [resolved, *resolved.parents] if a.exists())
        if base == Path("/"):
            raise AssertionError(f"no place to mount the secret directory {directory}")
        if base not in bases:
            lines.append(f"mount -t tmpfs -o mode=755,size=1m tmpfs {base}")
            bases.append(base)
        lines.append(f"mkdir -p {resolved}")
    for index, (path, content) in enumerate(secrets.items()):
        source = stage / f"secret{index}"
        source.write_text(content)
        # defaultMode 0440 with fsGroup 1001: readable by the pod's group only.
        lines += [f"cp {source} {path}", f"chown 0:{uid} {path}", f"chmod 0440 {path}"]
    lines += [f"mount -o remount,ro {base}" for base in bases]
    lines += _fresh_tmp(stage)
    lines += [
        # Every other filesystem read-only, as readOnlyRootFilesystem makes the image.
        "awk '{print $5, $6}' /proc/self/mountinfo | while read -r point options; do",
        '  case "$point" in /proc*|/sys*|/dev*|/tmp) continue;; esac',
        '  case "$options" in rw*) mount -o remount,bind,ro "$point";; esac',
        "done",
        "cd /tmp",
    ]
    setpriv = [
        "setpriv",
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--no-new-privs",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--",
        "env",
        "-i",
        *[f"{k}={v}" for k, v in sorted(env.items())],
        *command,
    ]
    lines.append("exec " + shlex.join(setpriv))
    return "\n".join(lines)


def launch(
    command: list[str], *, env: dict[str, str], secrets: dict[str, str], stage: Path, uid: int = 1001, log: Path
) -> subprocess.Popen[bytes]:
    """Start COMMAND in the sandbox; the returned process is the command itself (same PID)."""
    unshare = require_tool("unshare")
    require_tool("setpriv")
    executable = shutil.which(command[0], path=str(Path(sys.executable).parent))
    if executable is None:
        raise AssertionError(f"{command[0]} is not installed in {Path(sys.executable).parent}")
    stage.mkdir(parents=True, exist_ok=True)
    full_env = {
        # What the Dockerfile sets for every container of the image.
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
    } | env
    script = _script(stage, secrets, [executable, *command[1:]], full_env, uid)
    with log.open("wb") as out:
        return subprocess.Popen(
            [unshare, "--mount", "--propagation", "private", "--", "sh", "-c", script],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
