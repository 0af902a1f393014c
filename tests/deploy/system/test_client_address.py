"""Rate limits count users, not proxies: the web pods' HYPERPAGE_TRUSTED_PROXIES covers exactly what connects
to them in front of the users, so two users behind the same proxy get two buckets and a forged
X-Forwarded-For changes nothing.

What each front proxy does, from its documentation:
- ingress-nginx (development, staging) connects from its own pod address, which the VPC CNI takes from the
  VPC's subnets (docs.aws.amazon.com/eks/latest/userguide/cni-ipam.html), and sets X-Forwarded-For to the
  address it received the request from ($remote_addr, its default while compute-full-forwarded-for is off:
  kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/configmap/#compute-full-forwarded-for);
- the Istio ingress gateway (production) appends the address it received the request from to
  X-Forwarded-For (istio.io/latest/docs/ops/configuration/traffic-management/network-topologies/), and the
  web pod's sidecar hands the request to the app from 127.0.0.6, Istio's inbound passthrough bind address
  (istio/istio pilot/pkg/networking/util/util.go: InboundPassthroughBindIpv4 = "127.0.0.6").
"""

from __future__ import annotations

import ipaddress

from hyperpage.api.clientinfo import client_address
from hyperpage.config import Settings
from tests.deploy.k8s.appview import web_container
from tests.deploy.k8s.netpol import Pod
from tests.deploy.system.flows import GATEWAY, INGRESS_NGINX, PROMETHEUS, Network
from tests.deploy.system.network import Flow, NetworkPolicies, Peer, host
from tests.deploy.system.world import Environment

SIDECAR_INBOUND_SOURCE = "127.0.0.6"
USERS = ("198.51.100.7", "203.0.113.44")
FORGED = "192.0.2.99"  # what a client writes into its own X-Forwarded-For


def trusted_networks(env: Environment) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """The web container's HYPERPAGE_TRUSTED_PROXIES, parsed by the app's own settings class."""
    value = env.app.app_env(web_container(env.app)[1]).get("HYPERPAGE_TRUSTED_PROXIES", "")
    return Settings(hyperpage_trusted_proxies=value).trusted_proxy_networks


def front_proxy_addresses(env: Environment) -> list[str]:
    """Where the app sees requests come from: the sidecar, or an ingress-nginx pod in any private subnet."""
    if env.app.of_kind("Gateway"):
        return [SIDECAR_INBOUND_SOURCE]
    return [host(subnet, 100) for subnet in Network(env).private_subnets]


def request(peer: str, user: str, sidecar: bool) -> dict:
    """The ASGI scope the app gets for a request USER sent with a forged X-Forwarded-For."""
    forwarded = f"{FORGED}, {user}" if sidecar else user  # nginx replaces the header, the gateway appends
    return {"type": "http", "client": (peer, 40000), "headers": [(b"x-forwarded-for", forwarded.encode())]}


def test_each_user_gets_their_own_rate_limit_bucket(env: Environment) -> None:
    trusted, sidecar = trusted_networks(env), bool(env.app.of_kind("Gateway"))
    for peer in front_proxy_addresses(env):
        keys = [client_address(request(peer, user, sidecar), trusted) for user in USERS]
        assert keys == list(USERS), f"{env.name}: via {peer}, rate limit keys {keys} for users {list(USERS)}"


def test_only_the_front_proxy_and_prometheus_are_trusted_and_can_reach_the_app(env: Environment) -> None:
    # Trusting an address range is safe only if nothing else in it can talk to the app port: NetworkPolicies
    # admit only the front proxy (and Prometheus, which sends no X-Forwarded-For).
    trusted, net = trusted_networks(env), Network(env)
    policies = NetworkPolicies.of(env.app.docs + env.platform.docs)
    web = net.pod(Pod(env.namespace, web_container(env.app)[0]["metadata"]["labels"], name="web"))
    port = next(p["containerPort"] for p in web_container(env.app)[1]["ports"] if p["name"] == "http")
    candidates: list[Peer] = [
        net.pod(p)
        for p in (
            INGRESS_NGINX,
            GATEWAY,
            PROMETHEUS,
            Pod(env.namespace, {"app": "debug-shell"}, name="a pod of the namespace"),
            Pod("default", {"app": "anything"}, name="a pod of another namespace"),
        )
    ]
    sidecar = bool(env.app.of_kind("Gateway"))
    front = GATEWAY.name if sidecar else INGRESS_NGINX.name

    def seen_as_trusted(peer: Peer) -> bool:
        # Behind a sidecar every inbound connection reaches the app from 127.0.0.6, whoever opened it.
        seen = SIDECAR_INBOUND_SOURCE if sidecar else peer.ip
        return any(ipaddress.ip_address(seen) in network for network in trusted)

    exposed = {peer.name for peer in candidates if policies.allows(Flow(peer, web, port)) and seen_as_trusted(peer)}
    assert exposed <= {front, PROMETHEUS.name}, f"{env.name}: trusted and able to reach the app: {exposed}"
    believed = [u for u in (*USERS, FORGED) if any(ipaddress.ip_address(u) in n for n in trusted)]
    assert not believed, f"{env.name}: internet addresses trusted as proxies: {believed}"
