"""`make bench`: run every bench/bench_*.py (or those named: `python -m bench core api`)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import bench


def main(argv: list[str]) -> int:
    names = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_"))
    wanted = [n for n in names if not argv or n.removeprefix("bench_") in argv]
    failed = []
    for name in wanted:
        print(f"\n=== {name} ===", flush=True)
        started = time.monotonic()
        try:
            importlib.import_module(f"bench.{name}").main(argv)
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            failed.append(name)
            print(f"{name} FAILED: {exc!r}", flush=True)
        print(f"({name} took {time.monotonic() - started:.0f} s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
