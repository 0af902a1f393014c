"""Queries over tickets. Every SQL statement about issues lives here."""

from __future__ import annotations

from hyperpage.issues.models import Issue
from hyperpage.issues.schemas import IssueOut, IssueSort
from hyperpage.listing.common import synced_listing
from hyperpage.listing.spec import Search, equals, has_element
from hyperpage.tools.models import Repository

i = Issue
LISTING = synced_listing(
    i,
    IssueOut,
    IssueSort,
    filters=(
        equals("status_category", i.status_category),
        equals("assignee", i.assignee),
        has_element("label", i.labels),
    ),
    search=Search((i.title, i.key, Repository.full_name, i.assignee, i.reporter)),
)
