"""A small evaluator of Istio AuthorizationPolicy (action ALLOW) over rendered manifests.

Semantics from https://istio.io/latest/docs/reference/config/security/authorization-policy/: when ALLOW policies
select a workload, a request is allowed only if it matches some rule of one of them; a rule matches when its
`from` (any source) and `to` (any operation) both match, an absent `from`/`to` matching everything; inside a
source or operation every given field must match, any one value of a field sufficing. Strings match exactly,
by prefix ("abc*"), by suffix ("*abc"), or "*" matches anything present. Fields this model does not know
(notPaths, when, ...) fail loudly instead of being ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.deploy.k8s.netpol import selects

_SOURCE_FIELDS = {"principals": "principal", "namespaces": "namespace"}
_OPERATION_FIELDS = {"ports": "port", "methods": "method", "paths": "path"}


@dataclass(frozen=True)
class Request:
    principal: str  # the caller's mTLS identity, cluster.local/ns/<namespace>/sa/<service account>
    port: int
    method: str
    path: str

    @property
    def namespace(self) -> str:
        return self.principal.split("/ns/", 1)[1].split("/", 1)[0]


def _matches(pattern: str, value: str) -> bool:
    if pattern == "*":
        return bool(value)
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    if pattern.startswith("*"):
        return value.endswith(pattern[1:])
    return value == pattern


def _fields_match(spec: dict[str, Any], fields: dict[str, str], request: Request) -> bool:
    unknown = set(spec) - set(fields)
    assert not unknown, f"the AuthorizationPolicy model does not know {sorted(unknown)}"
    return all(
        any(_matches(str(p), str(getattr(request, fields[key]))) for p in patterns) for key, patterns in spec.items()
    )


def _rule_matches(rule: dict[str, Any], request: Request) -> bool:
    unknown = set(rule) - {"from", "to"}
    assert not unknown, f"the AuthorizationPolicy model does not know {sorted(unknown)}"
    sources = [s["source"] for s in rule.get("from", [])]
    operations = [o["operation"] for o in rule.get("to", [])]
    source_ok = not sources or any(_fields_match(s, _SOURCE_FIELDS, request) for s in sources)
    operation_ok = not operations or any(_fields_match(o, _OPERATION_FIELDS, request) for o in operations)
    return source_ok and operation_ok


def allows(policies: list[dict[str, Any]], workload_labels: dict[str, str], request: Request) -> bool:
    """Whether the ALLOW policies selecting the workload let the request in (no policy: allowed)."""
    selecting = [p for p in policies if selects(p["spec"].get("selector"), workload_labels)]
    for policy in selecting:
        assert policy["spec"].get("action", "ALLOW") == "ALLOW", "only ALLOW policies are modelled"
    if not selecting:
        return True
    return any(_rule_matches(rule, request) for p in selecting for rule in p["spec"].get("rules", []))
