"""Hyperpage: a team's code reviews, CI/CD runs, tickets and API rate limits in one portal."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hyperpage")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"
