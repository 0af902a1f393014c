"""Hyperpage: a team's code reviews, CI/CD runs, tickets and API rate limits in one portal."""

from functools import cache


@cache
def _version() -> str:
    # importlib.metadata is slow to import: looked up on first use, not by every process that imports a module
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hyperpage")
    except PackageNotFoundError:  # running from a source tree that was not installed
        return "0.0.0+unknown"


def __getattr__(name: str) -> str:
    if name == "__version__":
        return _version()
    raise AttributeError(f"module 'hyperpage' has no attribute {name!r}")
