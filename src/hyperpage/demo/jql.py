"""A JQL subset: enough for a portal's sync queries, parsed into a predicate and an ORDER BY.

Supported: AND / OR / NOT with parentheses; `=`, `!=`, `in`, `not in`, `>`, `>=`, `<`, `<=`, `~`,
`is [not] EMPTY`; fields project, key, summary, text, status, statusCategory, assignee, reporter, watcher,
issuetype/type, priority, labels, created, updated, resolved/resolutiondate; values as quoted or bare words,
currentUser(), now(), startOfDay(), relative dates (-30d, -2w, -4h, -15m) and "yyyy-MM-dd[ HH:mm]" or
"yyyy/MM/dd[ HH:mm]". Dates are read in UTC, the time zone the fake's /myself reports.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hyperpage.demo.world import JiraIssue, Person

TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\')|(?P<op>!=|>=|<=|!~|[=<>~(),])'
    r'|(?P<word>[^\s=<>!~(),"\']+(?:\(\))?))'
)
RELATIVE = re.compile(r"^([+-]?\d+)([wdhm])$")
UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}
DATE_FIELDS = {
    "created": "created",
    "updated": "updated",
    "resolved": "resolutiondate",
    "resolutiondate": "resolutiondate",
}
USER_FIELDS = ("assignee", "reporter", "watcher")


class JqlError(ValueError):
    pass


@dataclass
class Query:
    matches: Callable[[JiraIssue], bool]
    order: list[tuple[str, bool]]  # (field, descending)
    bounded: bool


class Parser:
    def __init__(self, text: str, me: Person, people: list[Person], now: datetime) -> None:
        self.tokens = self._lex(text)
        self.pos = 0
        self.me, self.people, self.now = me, people, now
        self.bounded = False

    @staticmethod
    def _lex(text: str) -> list[tuple[str, str]]:
        out, pos = [], 0
        text = text.strip()
        while pos < len(text):
            m = TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                raise JqlError(f"Error in the JQL Query: The character '{text[pos]}' is a reserved JQL character.")
            kind = m.lastgroup or "word"
            value = m.group(kind)
            if kind == "str":
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            out.append((kind, value))
            pos = m.end()
        return out

    def peek(self, upper: bool = True) -> str | None:
        if self.pos >= len(self.tokens):
            return None
        kind, value = self.tokens[self.pos]
        return value.upper() if upper and kind == "word" else value

    def take(self) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise JqlError("Error in the JQL Query: Expecting more input at the end of the query.")
        self.pos += 1
        return self.tokens[self.pos - 1]

    def parse(self) -> Query:
        matches: Callable[[JiraIssue], bool] = lambda issue: True  # noqa: E731
        if self.peek() not in (None, "ORDER"):
            matches = self.or_expr()
        order: list[tuple[str, bool]] = []
        if self.peek() == "ORDER":
            self.take()
            if self.peek() != "BY":
                raise JqlError("Error in the JQL Query: Expecting 'BY' after 'ORDER'.")
            self.take()
            while True:
                field = self.take()[1].lower()
                desc = self.peek() == "DESC"
                if self.peek() in ("ASC", "DESC"):
                    self.take()
                order.append((field, desc))
                if self.peek() != ",":
                    break
                self.take()
        if self.peek() is not None:
            raise JqlError(f"Error in the JQL Query: Unexpected '{self.peek(False)}'.")
        return Query(matches, order, self.bounded)

    def or_expr(self) -> Callable[[JiraIssue], bool]:
        return self.chain("OR", self.and_expr, any)

    def and_expr(self) -> Callable[[JiraIssue], bool]:
        return self.chain("AND", self.unary, all)

    def chain(
        self,
        keyword: str,
        operand: Callable[[], Callable[[JiraIssue], bool]],
        combine: Callable[[Iterable[bool]], bool],
    ) -> Callable[[JiraIssue], bool]:
        """`operand (keyword operand)*`, true as `combine` (any/all) of the operands says."""
        parts = [operand()]
        while self.peek() == keyword:
            self.take()
            parts.append(operand())
        return parts[0] if len(parts) == 1 else (lambda i: combine(p(i) for p in parts))

    def unary(self) -> Callable[[JiraIssue], bool]:
        if self.peek() == "NOT":
            self.take()
            inner = self.unary()
            return lambda i: not inner(i)
        if self.peek() == "(":
            self.take()
            inner = self.or_expr()
            if self.take()[1] != ")":
                raise JqlError("Error in the JQL Query: Expecting ')'.")
            return inner
        return self.clause()

    def value(self) -> Any:
        kind, raw = self.take()
        low = raw.lower()
        if kind == "word" and low == "currentuser()":
            return self.me.index
        if kind == "word" and low in ("now()", "startofday()"):
            return self.now if low == "now()" else self.now.replace(hour=0, minute=0, second=0, microsecond=0)
        if kind == "word" and low == "empty":
            return None
        return raw

    def clause(self) -> Callable[[JiraIssue], bool]:
        field = self.take()[1].lower()
        op = self.take()[1].upper()
        if op == "NOT" and self.peek() == "IN":
            self.take()
            op = "NOT IN"
        if op == "IS":
            negate = self.peek() == "NOT"
            if negate:
                self.take()
            if self.take()[1].upper() not in ("EMPTY", "NULL"):
                raise JqlError("Error in the JQL Query: Expecting EMPTY after IS.")
            getter = self.getter(field)
            return lambda i: (getter(i) in (None, [], "")) != negate
        if op in ("IN", "NOT IN"):
            if self.take()[1] != "(":
                raise JqlError("Error in the JQL Query: Expecting '(' after IN.")
            values = [self.value()]
            while self.peek() == ",":
                self.take()
                values.append(self.value())
            if self.take()[1] != ")":
                raise JqlError("Error in the JQL Query: Expecting ')'.")
        else:
            values = [self.value()]
        self.bounded = True
        return self.compare(field, op, values)

    def getter(self, field: str) -> Callable[[JiraIssue], Any]:
        getters: dict[str, Callable[[JiraIssue], Any]] = {
            "project": lambda i: {i.project.key.lower(), i.project.name.lower(), str(i.project.id)},
            "key": lambda i: i.key.lower(),
            "issuekey": lambda i: i.key.lower(),
            "status": lambda i: i.status[0].lower(),
            "statuscategory": lambda i: {i.status[1], i.status[3].lower()},
            "assignee": lambda i: i.assignee,
            "reporter": lambda i: i.reporter,
            "watcher": lambda i: i.watchers,
            "issuetype": lambda i: i.issuetype.lower(),
            "type": lambda i: i.issuetype.lower(),
            "priority": lambda i: i.priority.lower(),
            "labels": lambda i: [lb.lower() for lb in i.labels],
            "summary": lambda i: i.summary.lower(),
            "text": lambda i: (i.summary + " " + " ".join(i.paragraphs)).lower(),
            "resolution": lambda i: "done" if i.resolutiondate else None,
        }
        for name, attr in DATE_FIELDS.items():
            getters[name] = operator.attrgetter(attr)
        if field not in getters:
            raise JqlError(
                f"Error in the JQL Query: Field '{field}' does not exist or you do not have permission to view it."
            )
        return getters[field]

    def user(self, value: Any) -> int | None:
        if value is None or isinstance(value, int):
            return value
        low = str(value).lower()
        for p in self.people:
            if low in (p.login, p.email.lower(), p.jira_account_id.lower(), p.name.lower()):
                return p.index
        return -1

    def date(self, value: Any) -> datetime:
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        if m := RELATIVE.match(text):
            return self.now + timedelta(**{UNITS[m.group(2)]: int(m.group(1))})
        for fmt in ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d"):
            try:
                return datetime.strptime(text, fmt).replace(tzinfo=UTC)
            except ValueError:
                continue
        raise JqlError(
            f"Error in the JQL Query: Date value '{text}' for field is invalid. Valid formats include: "
            "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format "
            "e.g. '-5d', '4w 2d'."
        )

    def compare(self, field: str, op: str, values: list[Any]) -> Callable[[JiraIssue], bool]:
        getter = self.getter(field)
        if field in DATE_FIELDS:
            moment = self.date(values[0])
            checks: dict[str, Callable[[datetime], bool]] = {
                ">": lambda d: d > moment,
                ">=": lambda d: d >= moment,
                "<": lambda d: d < moment,
                "<=": lambda d: d <= moment,
                "=": lambda d: d == moment,
                "!=": lambda d: d != moment,
            }
            if op not in checks:
                raise JqlError(f"Error in the JQL Query: The operator '{op}' is not supported by the '{field}' field.")
            check = checks[op]
            return lambda i: getter(i) is not None and check(getter(i))
        if op in ("~", "!~"):
            needle = str(values[0]).lower().strip("*")
            return lambda i: (needle in getter(i)) == (op == "~")
        wanted = (
            [self.user(v) for v in values]
            if field in USER_FIELDS
            else [v if v is None else str(v).lower() for v in values]
        )

        def hit(issue: JiraIssue) -> bool:
            got = getter(issue)
            if isinstance(got, (set, list)):
                return any(w in got for w in wanted)
            return got in wanted

        if op in ("=", "IN"):
            return hit
        if op in ("!=", "NOT IN"):
            return lambda i: not hit(i)
        raise JqlError(f"Error in the JQL Query: The operator '{op}' is not supported by the '{field}' field.")


def parse_jql(text: str, me: Person, people: list[Person], now: datetime) -> Query:
    return Parser(text or "", me, people, now).parse()


def sort_issues(issues: list[JiraIssue], order: list[tuple[str, bool]]) -> list[JiraIssue]:
    """Jira's default order is by key descending (newest first) when the JQL has no ORDER BY."""
    keyed = {
        "updated": lambda i: i.updated,
        "created": lambda i: i.created,
        "key": lambda i: (i.project.key, i.number),
        "priority": lambda i: i.priority,
        "status": lambda i: i.status[0],
        "summary": lambda i: i.summary,
        "resolutiondate": lambda i: i.resolutiondate or datetime.min.replace(tzinfo=UTC),
    }
    out = sorted(issues, key=lambda i: (i.project.key, i.number), reverse=True)
    for field, desc in reversed(order or []):
        if field not in keyed:
            raise JqlError(
                f"Error in the JQL Query: Field '{field}' does not exist or you do not have permission to view it."
            )
        out.sort(key=keyed[field], reverse=desc)
    return out
