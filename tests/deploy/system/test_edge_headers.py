"""Every environment's edge adds the same security headers: ingress-nginx from the ConfigMap its Ingress
names in nginx.ingress.kubernetes.io/custom-headers (ingress-nginx docs, annotations: "custom-headers:
<namespace>/<configmap>", each key a header), the Istio ingress path from the VirtualService's
headers.response.set (Istio docs, VirtualService HTTPRoute.headers)."""

from __future__ import annotations

from tests.deploy.k8s.manifests import OVERLAYS
from tests.deploy.system.world import Environment, environment

CUSTOM_HEADERS = "nginx.ingress.kubernetes.io/custom-headers"


def edge_headers(env: Environment) -> dict[str, dict[str, str]]:
    """Headers added per route into the app: {route description: {header: value}}."""
    found = {}
    for ingress in env.app.of_kind("Ingress"):
        ref = (ingress["metadata"].get("annotations") or {}).get(CUSTOM_HEADERS)
        if ref is None:
            found[f"Ingress {ingress['metadata']['name']}"] = {}
            continue
        namespace, name = ref.split("/")
        assert namespace == env.namespace, f"{env.name}: {CUSTOM_HEADERS} points into {namespace}"
        found[f"Ingress {ingress['metadata']['name']}"] = env.app.get("ConfigMap", name)["data"]
    for service in env.app.of_kind("VirtualService"):
        for route in service["spec"]["http"]:
            headers = ((route.get("headers") or {}).get("response") or {}).get("set") or {}
            found[f"VirtualService {service['metadata']['name']} route {route.get('name')}"] = headers
    return found


def test_every_environment_sends_the_same_security_headers() -> None:
    per_env = {name: edge_headers(environment(name)) for name in OVERLAYS}
    reference = per_env["staging"]
    assert reference, "staging's Ingress adds no headers"
    want = next(iter(reference.values()))
    for name, routes in per_env.items():
        assert routes, f"{name}: no route into the app"
        for route, headers in routes.items():
            assert headers == want, (
                f"{name}: {route} adds {sorted(headers)}; staging adds {sorted(want)} "
                f"(missing {sorted(set(want) - set(headers))})"
            )
