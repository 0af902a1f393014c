"""Jira issue JSON: Cloud (v3, descriptions in Atlassian Document Format, users by accountId) and
Data Center (v2, wiki-markup descriptions, users by name/key)."""

from __future__ import annotations

from typing import Any

from hyperpage.demo.httpkit import jira_time
from hyperpage.demo.shapes import PeopleShapes
from hyperpage.demo.world import JiraIssue, Person

CATEGORY_COLORS = {"new": "blue-gray", "indeterminate": "yellow", "done": "green", "undefined": "medium-gray"}
PRIORITY_IDS = {"Highest": "1", "High": "2", "Medium": "3", "Low": "4", "Lowest": "5"}
NAVIGABLE = (
    "summary",
    "status",
    "assignee",
    "reporter",
    "priority",
    "issuetype",
    "labels",
    "created",
    "updated",
    "resolutiondate",
    "statuscategorychangedate",
    "description",
    "project",
)


def adf(paragraphs: list[str], seed: int) -> dict[str, Any]:
    """An ADF document: paragraphs, a bullet list and marks, so a client must walk the tree, not read text."""
    content: list[dict[str, Any]] = [{"type": "paragraph", "content": [{"type": "text", "text": paragraphs[0]}]}]
    if len(paragraphs) > 1:
        content.append(
            {
                "type": "bulletList",
                "content": [
                    {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": p}]}]}
                    for p in paragraphs[1:]
                ],
            }
        )
    if seed % 3 == 0:
        content.append(
            {
                "type": "paragraph",
                "content": [
                    {"type": "text", "text": "Owner: "},
                    {"type": "text", "text": "see runbook", "marks": [{"type": "strong"}]},
                ],
            }
        )
    return {"type": "doc", "version": 1, "content": content}


class JiraShapes(PeopleShapes):
    def __init__(self, base: str, people: list[Person], cloud: bool) -> None:
        self.base = base  # JIRA_WEB_URL, e.g. http://127.0.0.1:8000/jira
        self.api = f"{base}/rest/api/{3 if cloud else 2}"
        self.people = people
        self.cloud = cloud

    def person(self, index: int) -> dict[str, Any]:
        p = self.people[index]
        avatars = {
            size: f"{self.base}/secure/useravatar?size={size}&owner={p.login}"
            for size in ("48x48", "24x24", "16x16", "32x32")
        }
        if self.cloud:
            return {
                "self": f"{self.api}/user?accountId={p.jira_account_id}",
                "accountId": p.jira_account_id,
                "emailAddress": p.email,
                "avatarUrls": avatars,
                "displayName": p.name,
                "active": True,
                "timeZone": "UTC",
                "accountType": "atlassian",
            }
        return {
            "self": f"{self.api}/user?username={p.login}",
            "name": p.login,
            "key": f"JIRAUSER{10000 + index}",
            "emailAddress": p.email,
            "avatarUrls": avatars,
            "displayName": p.name,
            "active": True,
            "timeZone": "UTC",
        }

    def myself(self, person: Person) -> dict[str, Any]:
        extra = {
            "locale": "en_US",
            "groups": {"size": 1, "items": []},
            "applicationRoles": {"size": 1, "items": []},
            "expand": "groups,applicationRoles",
        }
        return {**self.user(person.index), **extra}

    def fields(self, issue: JiraIssue) -> dict[str, Any]:
        every = self._fields(issue)
        if issue.number % 9 == 0:
            # Fields hidden from a project's screens are absent, not null (Jira Cloud's search omits them).
            for key in ("assignee", "priority", "labels", "resolutiondate"):
                every.pop(key, None)
        return every

    def _fields(self, issue: JiraIssue) -> dict[str, Any]:
        name, cat_key, cat_id, cat_name = issue.status
        if issue.number % 11 == 0 and cat_key == "new":
            # Jira's fourth status category, "No Category" (key `undefined`, id 1), e.g. on imported statuses.
            cat_key, cat_id, cat_name = "undefined", 1, "No Category"
        status_id = str(10_000 + sum(map(ord, name)))
        project = issue.project
        return {
            "summary": issue.summary,
            "status": {
                "self": f"{self.api}/status/{status_id}",
                "description": "",
                "iconUrl": f"{self.base}/images/icons/statuses/generic.png",
                "name": name,
                "id": status_id,
                "statusCategory": {
                    "self": f"{self.api}/statuscategory/{cat_id}",
                    "id": cat_id,
                    "key": cat_key,
                    "colorName": CATEGORY_COLORS[cat_key],
                    "name": cat_name,
                },
            },
            "assignee": self.user(issue.assignee),
            "reporter": self.user(issue.reporter),
            "priority": {
                "self": f"{self.api}/priority/{PRIORITY_IDS[issue.priority]}",
                "iconUrl": f"{self.base}/images/icons/priorities/{issue.priority.lower()}.svg",
                "name": issue.priority,
                "id": PRIORITY_IDS[issue.priority],
            },
            "issuetype": {
                "self": f"{self.api}/issuetype/{10_001 + len(issue.issuetype)}",
                "id": str(10_001 + len(issue.issuetype)),
                "description": "",
                "iconUrl": f"{self.base}/images/icons/issuetypes/{issue.issuetype.lower()}.svg",
                "name": issue.issuetype,
                "subtask": False,
                "hierarchyLevel": 1 if issue.issuetype == "Epic" else 0,
            },
            "labels": list(issue.labels),
            "created": jira_time(issue.created),
            "updated": jira_time(issue.updated),
            "resolutiondate": jira_time(issue.resolutiondate),
            "statuscategorychangedate": jira_time(issue.status_changed or issue.created),
            "description": adf(issue.paragraphs, issue.id) if self.cloud else "\n\n".join(issue.paragraphs),
            "project": {
                "self": f"{self.api}/project/{project.id}",
                "id": str(project.id),
                "key": project.key,
                "name": project.name,
                "projectTypeKey": "software",
                "simplified": False,
            },
        }

    def issue(self, issue: JiraIssue, wanted: list[str] | None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
            "id": str(issue.id),
            "self": f"{self.api}/issue/{issue.id}",
            "key": issue.key,
        }
        if wanted is None:
            return {"id": str(issue.id)}
        chosen = select_fields(wanted)
        if chosen:
            every = self.fields(issue)
            out["fields"] = {k: every[k] for k in chosen if k in every}
        return out


def select_fields(wanted: list[str]) -> list[str]:
    """Jira's field list syntax: names, *all, *navigable, and -name to drop one."""
    chosen: list[str] = []
    for item in wanted:
        for name in (s.strip() for s in item.split(",")):
            if name in ("*all", "*navigable"):
                chosen.extend(NAVIGABLE)
            elif name and not name.startswith("-") and name not in ("id", "key"):
                chosen.append(name)
    dropped = {n[1:] for item in wanted for n in item.split(",") if n.strip().startswith("-")}
    return [n for n in dict.fromkeys(chosen) if n not in dropped]
