"""The fake upstream: GitHub-, GitLab- and Jira-shaped APIs over generated data, for demos and tests."""

from hyperpage.demo.config import FakeUpstreamConfig
from hyperpage.demo.upstream import FakeUpstream, create_fake_upstream

__all__ = ["FakeUpstream", "FakeUpstreamConfig", "create_fake_upstream"]
