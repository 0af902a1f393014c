"""The sign-in kit (issue 14): each overlay's HYPERPAGE_AUTH mode and its settings as the auth contract wants
them, every auth secret from AWS Secrets Manager, oauth2-proxy in front of staging (its arguments read as
oauth2-proxy documents them), the network paths that make the proxy's user header trustworthy, the metrics
port reachable by Prometheus alone, and the production mesh letting browsers through the sign-in routes.

The contract (docs/configuration.md, the auth settings): HYPERPAGE_AUTH = off | token | oidc | proxy; oidc needs
HYPERPAGE_PUBLIC_URL, HYPERPAGE_OIDC_ISSUER, HYPERPAGE_OIDC_CLIENT_ID, HYPERPAGE_OIDC_CLIENT_SECRET(_FILE) and
HYPERPAGE_SESSION_SECRET(_FILE); proxy believes HYPERPAGE_AUTH_PROXY_USER_HEADER (default X-Auth-Request-Email)
and HYPERPAGE_AUTH_PROXY_GROUPS_HEADER (default X-Auth-Request-Groups) only from HYPERPAGE_TRUSTED_PROXIES.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.deploy.k8s import oauth2proxy
from tests.deploy.k8s.appview import secret_files, secret_source, web_container
from tests.deploy.k8s.manifests import OVERLAYS, Rendered, container_port, overlay
from tests.deploy.k8s.meshauthz import Request, allows
from tests.deploy.k8s.netpol import Address, Pod, PolicySet, selects
from tests.deploy.k8s.test_policies import GATEWAY, INGRESS_NGINX, INTERNET, OTHER_NAMESPACE, PROMETHEUS, pods
from tests.deploy.system.releases import (
    GATEWAY_SERVICE_ACCOUNT,
    ISTIO_GATEWAY,
    KUBE_PROMETHEUS_STACK,
    PROMETHEUS_SERVICE_ACCOUNT,
    spiffe_principal,
)
from tests.tooling import REPO_ROOT

MODE = {"development": "off", "staging": "proxy", "production": "oidc"}
CONTRACT_DEFAULT_HEADERS = {
    "HYPERPAGE_AUTH_PROXY_USER_HEADER": "X-Auth-Request-Email",
    "HYPERPAGE_AUTH_PROXY_GROUPS_HEADER": "X-Auth-Request-Groups",
}
# Secret settings the app reads for sign-in: never literal, always a mounted file.
AUTH_SECRETS = ("HYPERPAGE_OIDC_CLIENT_SECRET", "HYPERPAGE_SESSION_SECRET", "HYPERPAGE_ADMIN_TOKEN")
OIDC_REQUIRED = (
    "HYPERPAGE_PUBLIC_URL",
    "HYPERPAGE_OIDC_ISSUER",
    "HYPERPAGE_OIDC_CLIENT_ID",
    "HYPERPAGE_OIDC_CLIENT_SECRET_FILE",
    "HYPERPAGE_SESSION_SECRET_FILE",
)
PROXY = "hyperpage-oauth2-proxy"
IMAGE = re.compile(r"^quay\.io/oauth2-proxy/oauth2-proxy:v7\.\d+\.\d+$")


def proxy_container(rendered: Rendered) -> tuple[dict[str, Any], dict[str, Any]]:
    template = rendered.get("Deployment", PROXY)["spec"]["template"]
    [container] = template["spec"]["containers"]
    return template, container


def public_hosts(rendered: Rendered) -> set[str]:
    """Host names browsers reach the portal on: the Ingress rules, or the Istio Gateway's servers."""
    hosts = {rule["host"] for ingress in rendered.of_kind("Ingress") for rule in ingress["spec"]["rules"]}
    hosts |= {
        host
        for gateway in rendered.of_kind("Gateway")
        for server in gateway["spec"]["servers"]
        for host in server["hosts"]
    }
    return hosts


def external_secret_source(rendered: Rendered, secret: str, key: str) -> str:
    """The Secrets Manager entry an ExternalSecret fills the Secret's key from; fails for any other source."""
    assert rendered.find("Secret", secret) is None, f"{secret} must not be a Secret in the repository"
    for external in rendered.of_kind("ExternalSecret"):
        if external["spec"]["target"].get("name", external["metadata"]["name"]) == secret:
            [item] = [i for i in external["spec"]["data"] if i["secretKey"] == key]
            return item["remoteRef"]["key"]
    raise AssertionError(f"{rendered.name}: no ExternalSecret provides {secret}")


@pytest.mark.parametrize("name", OVERLAYS)
def test_each_overlay_sets_its_sign_in_mode_with_what_the_mode_needs(name: str) -> None:
    rendered = overlay(name)
    template, web = web_container(rendered)
    env = rendered.app_env(web)
    # Every process of the overlay loads the same mode (staging and production refuse to start without one).
    for workload, pod in rendered.app_workloads():
        for container in pod["spec"]["containers"]:
            assert rendered.app_env(container).get("HYPERPAGE_AUTH") == MODE[name], workload["metadata"]["name"]
    assert env.get("HYPERPAGE_AUTH_ALLOW_ANONYMOUS", "false") == "false"
    for secret in AUTH_SECRETS:
        assert secret not in env, f"{secret} must come from a file, not the pod spec or a ConfigMap"
    if name == "development":
        assert not public_hosts(rendered) - {"hyperpage.dev.example.com"}
        return
    public = urlsplit(env["HYPERPAGE_PUBLIC_URL"])
    # Absolute redirects are built from it: it must be the host browsers use, over HTTPS, with no path.
    assert public.scheme == "https" and public.path in ("", "/") and not public.query
    assert {public.hostname} == public_hosts(rendered)
    files = secret_files(rendered, template, web)
    if MODE[name] == "oidc":
        missing = [key for key in OIDC_REQUIRED if not env.get(key)]
        assert not missing, f"oidc mode needs {missing}"
        issuer = urlsplit(env["HYPERPAGE_OIDC_ISSUER"])
        assert issuer.scheme == "https" and issuer.hostname and not issuer.query
        for key in ("HYPERPAGE_OIDC_CLIENT_SECRET_FILE", "HYPERPAGE_SESSION_SECRET_FILE"):
            assert env[key] in files, f"{key} names {env[key]}, which no Secret volume provides"
    if MODE[name] == "proxy":
        networks = [ipaddress.ip_network(part.strip()) for part in env["HYPERPAGE_TRUSTED_PROXIES"].split(",")]
        assert networks and all(n.prefixlen > 0 for n in networks), "trusting every address trusts every client"


@pytest.mark.parametrize("name", [n for n in OVERLAYS if n != "development"])
def test_every_auth_secret_comes_from_an_external_secret_and_only_its_reader_mounts_it(name: str) -> None:
    rendered = overlay(name)
    template, web = web_container(rendered)
    env = rendered.app_env(web)
    sources = []
    for key in (f"{s}_FILE" for s in AUTH_SECRETS):
        if key in env:
            _, volume = secret_source(template, web, env[key])
            [item] = [i for i in volume["items"] if env[key].endswith("/" + i["path"])]
            sources.append((volume["secretName"], item["key"]))
    if rendered.find("Deployment", PROXY) is not None:
        proxy_template, proxy = proxy_container(rendered)
        options = oauth2proxy.parse(proxy["args"])
        for flag in ("client-secret-file", "cookie-secret-file"):
            path = options.get(flag)
            assert path in secret_files(rendered, proxy_template, proxy), f"--{flag}={path} is not mounted"
            _, volume = secret_source(proxy_template, proxy, path)
            [item] = [i for i in volume["items"] if path.endswith("/" + i["path"])]
            sources.append((volume["secretName"], item["key"]))
    assert sources, "an overlay that signs users in reads at least one secret"
    for secret, key in sources:
        assert external_secret_source(rendered, secret, key).startswith(f"hyperpage/{name}/"), (secret, key)
    if MODE[name] == "oidc":
        assert {external_secret_source(rendered, s, k) for s, k in sources} == {f"hyperpage/{name}/oidc"}
    # No other pod mounts a sign-in secret: not the worker, the migration Job, the backups.
    auth_secrets = {secret for secret, _ in sources}
    for workload, pod in rendered.workloads():
        if workload["metadata"]["name"] in ("hyperpage-web", PROXY):
            continue
        mounted = {v["secret"]["secretName"] for v in pod["spec"].get("volumes", []) if "secret" in v}
        assert not mounted & auth_secrets, f"{workload['metadata']['name']} mounts {mounted & auth_secrets}"


def test_oauth2_proxy_arguments_are_documented_and_point_at_the_portal() -> None:
    rendered = overlay("staging")
    template, proxy = proxy_container(rendered)
    options = oauth2proxy.parse(proxy["args"])
    assert IMAGE.match(proxy["image"]), f"{proxy['image']}: pin an exact oauth2-proxy v7 release"
    assert options.get("provider") == "oidc" and options.get("oidc-issuer-url").startswith("https://")
    assert options.get("client-id") and options.all("email-domain"), "oauth2-proxy refuses to start without them"
    # It listens where its container port and Service say, and its probes are its own health endpoints.
    port = container_port(proxy, "http")
    assert int(options.get("http-address").rsplit(":", 1)[1]) == port
    service = rendered.get("Service", PROXY)
    assert selects({"matchLabels": service["spec"]["selector"]}, template["metadata"]["labels"])
    assert {container_port(proxy, p["targetPort"]) for p in service["spec"]["ports"]} == {port}
    assert proxy["livenessProbe"]["httpGet"]["path"] == options.get("ping-path")
    assert proxy["readinessProbe"]["httpGet"]["path"] == options.get("ready-path")
    assert {container_port(proxy, proxy[p]["httpGet"]["port"]) for p in ("livenessProbe", "readinessProbe")} == {port}
    # The upstream is the web Service's public port, which leads to the web container's public port.
    [upstream] = options.all("upstream")
    url = urlsplit(upstream)
    web_service = rendered.get("Service", url.hostname)
    _, web = web_container(rendered)
    [service_port] = [p for p in web_service["spec"]["ports"] if p["port"] == url.port]
    assert container_port(web, service_port["targetPort"]) == int(rendered.app_env(web)["HYPERPAGE_PORT"])
    # The provider sends browsers back to the public host, under oauth2-proxy's own prefix.
    public = rendered.app_env(web)["HYPERPAGE_PUBLIC_URL"].rstrip("/")
    assert options.get("redirect-url") == f"{public}{options.get('proxy-prefix')}/callback"
    # Sessions: Secure cookie, PKCE, the ID token's nonce checked; forwarded headers only from the pods' network.
    assert options.get("cookie-secure") is True and options.get("cookie-httponly") is True
    assert options.get("code-challenge-method") == "S256" and options.get("insecure-oidc-skip-nonce") is False
    assert options.get("reverse-proxy") is True and options.all("trusted-proxy-ip")


def test_the_app_believes_only_headers_oauth2_proxy_sets_and_strips_from_clients() -> None:
    rendered = overlay("staging")
    _, web = web_container(rendered)
    env = rendered.app_env(web)
    options = oauth2proxy.parse(proxy_container(rendered)[1]["args"])
    for setting, default in CONTRACT_DEFAULT_HEADERS.items():
        header = env.get(setting, default).lower()
        # Set from the session on every proxied request; deleted from the client's request first, so a
        # signed-in user (or anyone on the unauthenticated /api/ route) cannot name someone else.
        assert header in options.upstream_request_headers(), f"{setting}: oauth2-proxy never sends {header}"
        assert header in options.stripped_client_headers(), f"{setting}: a client's own {header} gets through"


def reachable_from(rendered: Rendered, port: int) -> set[str]:
    """Every modelled peer that may open a connection to a web pod on PORT."""
    policies = PolicySet(rendered.namespace, rendered.of_kind("NetworkPolicy"))
    all_pods = pods(rendered)
    web = all_pods["hyperpage-web"]
    peers: list[Pod | Address] = [
        *all_pods.values(),
        INGRESS_NGINX,
        GATEWAY,
        PROMETHEUS,
        OTHER_NAMESPACE,
        INTERNET,
        Address("10.0.10.7", name="an address in the VPC"),
    ]
    return {peer.name for peer in peers if peer is not web and policies.allows(peer, web, port)}


@pytest.mark.parametrize("name", OVERLAYS)
def test_only_the_front_reaches_the_public_port_and_only_prometheus_the_metrics_port(name: str) -> None:
    rendered = overlay(name)
    front = {"development": INGRESS_NGINX.name, "staging": PROXY, "production": GATEWAY.name}[name]
    assert reachable_from(rendered, 3000) == {front}
    _, web = web_container(rendered)
    metrics = container_port(web, "metrics")
    assert reachable_from(rendered, metrics) == ({PROMETHEUS.name} if rendered.of_kind("ServiceMonitor") else set())


@pytest.mark.parametrize("name", OVERLAYS)
def test_no_public_route_leads_to_the_metrics_port(name: str) -> None:
    rendered = overlay(name)
    _, web = web_container(rendered)
    metrics = container_port(web, "metrics")
    services = {s["metadata"]["name"]: s for s in rendered.of_kind("Service")}
    web_pod = rendered.get("Deployment", "hyperpage-web")["spec"]["template"]["metadata"]["labels"]
    routes = [
        (path["backend"]["service"]["name"], "name", path["backend"]["service"]["port"]["name"])
        for ingress in rendered.of_kind("Ingress")
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    ]
    routes += [
        (d["destination"]["host"], "port", d["destination"]["port"]["number"])
        for vs in rendered.of_kind("VirtualService")
        for route in vs["spec"]["http"]
        for d in route["route"]
    ]
    assert routes
    for host, field, value in routes:
        service = services[host]
        if selects({"matchLabels": service["spec"]["selector"]}, web_pod):
            [port] = [p for p in service["spec"]["ports"] if p[field] == value]
            assert container_port(web, port["targetPort"]) != metrics, (host, value)
    # The public Service has no metrics port at all, so no upstream or route can name one.
    assert all(container_port(web, p["targetPort"]) != metrics for p in services["hyperpage-web"]["spec"]["ports"])


# The platform's Helm releases' ServiceAccounts (tests/deploy/system/releases.py derives them from the charts).
GATEWAY_PRINCIPAL = spiffe_principal(ISTIO_GATEWAY.namespace, GATEWAY_SERVICE_ACCOUNT)
PROMETHEUS_PRINCIPAL = spiffe_principal(KUBE_PROMETHEUS_STACK.namespace, PROMETHEUS_SERVICE_ACCOUNT)


@pytest.mark.parametrize("name", [n for n in OVERLAYS if overlay(n).of_kind("AuthorizationPolicy")])
def test_the_mesh_lets_browsers_sign_in_and_prometheus_only_scrape(name: str) -> None:
    rendered = overlay(name)
    policies = rendered.of_kind("AuthorizationPolicy")
    template, web = web_container(rendered)
    labels = template["metadata"]["labels"]
    metrics = container_port(web, "metrics")
    sign_in = [
        ("GET", "/auth/login"),
        ("GET", "/auth/callback?code=x&state=y"),
        ("POST", "/auth/logout"),
        ("GET", "/api/v1/auth/me"),
        ("GET", "/"),
        ("GET", "/api/v1/reviews"),
    ]
    for method, path in sign_in:
        assert allows(policies, labels, Request(GATEWAY_PRINCIPAL, 3000, method, path.split("?")[0])), path
    assert allows(policies, labels, Request(PROMETHEUS_PRINCIPAL, metrics, "GET", "/metrics"))
    refused = [
        Request(PROMETHEUS_PRINCIPAL, 3000, "GET", "/api/v1/reviews"),
        Request(PROMETHEUS_PRINCIPAL, 3000, "GET", "/metrics"),
        Request(GATEWAY_PRINCIPAL, metrics, "GET", "/metrics"),
        Request("cluster.local/ns/default/sa/default", 3000, "GET", "/auth/login"),
        Request(f"cluster.local/ns/{rendered.namespace}/sa/hyperpage-worker", 3000, "GET", "/"),
    ]
    for request in refused:
        assert not allows(policies, labels, request), request


def terraform_vpc_cidr(environment: str) -> ipaddress.IPv4Network:
    """The VPC CIDR Terraform gives ENVIRONMENT: its tfvars' vpc_cidr, else the variable's default."""
    terraform = REPO_ROOT / "deploy" / "terraform"
    tfvars = re.search(
        r'^\s*vpc_cidr\s*=\s*"([^"]+)"', (terraform / "envs" / f"{environment}.tfvars").read_text(), re.MULTILINE
    )
    if tfvars:
        return ipaddress.ip_network(tfvars.group(1))
    variable = re.search(
        r'variable\s+"vpc_cidr"\s*\{.*?default\s*=\s*"([^"]+)"', (terraform / "variables.tf").read_text(), re.DOTALL
    )
    assert variable, "deploy/terraform/variables.tf declares no vpc_cidr default"
    return ipaddress.ip_network(variable.group(1))


def test_staging_trusts_forwarded_headers_only_from_its_own_vpc() -> None:
    # Pods take their addresses from the VPC (the VPC CNI): the proxies are in it, and nothing outside it is
    # trusted. Which pods inside it may connect is the NetworkPolicies' part (tested above).
    rendered = overlay("staging")
    vpc = terraform_vpc_cidr("staging")
    _, web = web_container(rendered)
    trusted = rendered.app_env(web)["HYPERPAGE_TRUSTED_PROXIES"].split(",")
    trusted += oauth2proxy.parse(proxy_container(rendered)[1]["args"]).all("trusted-proxy-ip")
    for network in (ipaddress.ip_network(part.strip()) for part in trusted):
        assert network.subnet_of(vpc), f"{network} reaches beyond the staging VPC {vpc}"
