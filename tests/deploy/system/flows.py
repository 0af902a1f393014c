"""Every connection the system needs, per environment, as `Flow`s between `Peer`s.

The platform's pods carry the namespaces and labels of the Helm releases agreed for deploy/platform
(cert-manager in cert-manager, external-secrets in external-secrets, cnpg in cnpg-system,
kube-prometheus-stack and prometheus-adapter in monitoring, istiod in istio-system, the gateway
istio-ingressgateway in istio-ingress, ingress-nginx in ingress-nginx, the node autoscaler in kube-system);
labels and ports are the charts' defaults, each cited where it is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from tests.deploy.k8s.appview import web_container
from tests.deploy.k8s.manifests import Rendered, annotations
from tests.deploy.k8s.netpol import Pod, selects
from tests.deploy.k8s.test_policies import backup_connections, database_pod, pods
from tests.deploy.system.network import Flow, Peer, address_peer, host, pod_peer
from tests.deploy.system.world import Environment


@dataclass(frozen=True)
class Webhook:
    """A server the API server calls: an admission webhook or an aggregated API's backend."""

    name: str
    pod: Pod
    port: int  # the container port the Service's targetPort resolves to
    source: str


# Admission webhooks and aggregated APIs the platform registers, with the container port each chart listens on
# by default. The API server connects to the pod's port (the Service's targetPort), not the Service port 443,
# so each port must be open from the control plane to the nodes.
WEBHOOKS = (
    Webhook(
        "istio sidecar injector + config validation",
        Pod("istio-system", {"app": "istiod"}, name="istiod"),
        15017,
        "istio.io/latest/docs/ops/deployment/application-requirements/ (istiod ports: 15017 HTTPS, "
        "webhook container port, forwarded from 443)",
    ),
    Webhook(
        "ingress-nginx admission",
        Pod(
            "ingress-nginx",
            {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"},
            name="ingress-nginx",
        ),
        8443,
        "kubernetes/ingress-nginx charts/ingress-nginx/values.yaml controller.admissionWebhooks.port: 8443",
    ),
    Webhook(
        "prometheus-adapter (custom.metrics.k8s.io APIService)",
        Pod("monitoring", {"app.kubernetes.io/name": "prometheus-adapter"}, name="prometheus-adapter"),
        6443,
        "prometheus-community/helm-charts charts/prometheus-adapter/values.yaml listenPort: 6443",
    ),
    Webhook(
        "prometheus-operator admission (PrometheusRule validation)",
        Pod("monitoring", {"app": "kube-prometheus-stack-operator"}, name="prometheus-operator"),
        10250,
        "charts/kube-prometheus-stack/values.yaml prometheusOperator.tls.internalPort: 10250",
    ),
    Webhook(
        "cert-manager webhook",
        Pod(
            "cert-manager",
            {"app.kubernetes.io/name": "webhook", "app.kubernetes.io/component": "webhook"},
            name="cert-manager-webhook",
        ),
        10250,
        "cert-manager deploy/charts/cert-manager/values.yaml webhook.securePort: 10250",
    ),
    Webhook(
        "external-secrets webhook",
        Pod(
            "external-secrets", {"app.kubernetes.io/name": "external-secrets-webhook"}, name="external-secrets-webhook"
        ),
        10250,
        "external-secrets deploy/charts/external-secrets/values.yaml webhook.port: 10250",
    ),
    Webhook(
        "CloudNativePG operator webhooks",
        Pod("cnpg-system", {"app.kubernetes.io/name": "cloudnative-pg"}, name="cnpg-operator"),
        9443,
        "cloudnative-pg/charts charts/cloudnative-pg/values.yaml webhook.port: 9443",
    ),
    Webhook(
        "Karpenter webhooks",
        Pod("kube-system", {"app.kubernetes.io/name": "karpenter"}, name="karpenter"),
        8443,
        "aws/karpenter-provider-aws charts/karpenter/values.yaml webhook.port: 8443",
    ),
    Webhook(
        "metrics-server (metrics.k8s.io APIService), Helm chart",
        Pod("kube-system", {"app.kubernetes.io/name": "metrics-server"}, name="metrics-server"),
        10250,
        "kubernetes-sigs/metrics-server charts/metrics-server/values.yaml containerPort: 10250",
    ),
    Webhook(
        "metrics-server (metrics.k8s.io APIService), EKS add-on",
        Pod("kube-system", {"app.kubernetes.io/name": "metrics-server"}, name="metrics-server-addon"),
        10251,
        "docs.aws.amazon.com/eks/latest/userguide/metrics-server.html: the Amazon EKS add-on version of "
        "Metrics Server is pre-configured to use port 10251",
    ),
    Webhook(
        "AWS Load Balancer Controller webhooks",
        Pod(
            "kube-system",
            {"app.kubernetes.io/name": "aws-load-balancer-controller"},
            name="aws-load-balancer-controller",
        ),
        9443,
        "aws/eks-charts stable/aws-load-balancer-controller/values.yaml webhookBindPort: 9443",
    ),
)

# Platform pods the app talks to or is reached from (labels as the charts set them).
INGRESS_NGINX = Pod(
    "ingress-nginx",
    {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"},
    name="ingress-nginx",
)
# The gateway chart labels its pods istio=<release name without "istio-">: istio=ingressgateway.
GATEWAY = Pod("istio-ingress", {"istio": "ingressgateway", "app": "istio-ingressgateway"}, name="istio-ingressgateway")
ISTIOD = Pod("istio-system", {"app": "istiod"}, name="istiod")
PROMETHEUS = Pod("monitoring", {"app.kubernetes.io/name": "prometheus"}, name="prometheus")
KUBE_DNS = Pod("kube-system", {"k8s-app": "kube-dns"}, name="kube-dns")
CNPG_OPERATOR = Pod("cnpg-system", {"app.kubernetes.io/name": "cloudnative-pg"}, name="cnpg-operator")
CERT_MANAGER = Pod(
    "cert-manager",
    {"app.kubernetes.io/name": "cert-manager", "app.kubernetes.io/component": "controller"},
    name="cert-manager",
)
# ingress-nginx chart values controller.containerPort {http: 80, https: 443}; the Istio gateway chart's
# service.ports target 80 and 443 on the pod. The load balancer reaches these pods directly (IP targets).
FRONT_PORTS = (80, 443)
# cert-manager's HTTP-01 solver pods: created in the Certificate's namespace with this label, serving the
# challenge on 8089 (cert-manager.io/docs/configuration/acme/http01/; the solver Ingress it creates routes
# /.well-known/acme-challenge/<token> to servicePort 8089).
SOLVER = {"acme.cert-manager.io/http01-solver": "true"}
SOLVER_PORT = 8089
# Public services; any public address stands for them (security groups and ipBlocks only see "public").
S3_ADDRESS = "52.216.0.10"
AWS_API_ADDRESS = "54.239.28.85"
UPSTREAM_ADDRESS = "140.82.112.3"
USER_ADDRESS = "198.51.100.7"
LB_PUBLIC_ADDRESS = "203.0.113.80"


class Network:
    """Addresses of one environment's VPC, from the plan, and the peers that live there."""

    def __init__(self, env: Environment) -> None:
        subnets = sorted(env.plan.resources("aws_subnet"), key=lambda s: s["address"])
        self.vpc_cidr = env.plan.one("aws_vpc")["cidr_block"]
        self.private_subnets = [s["cidr_block"] for s in subnets if s["tags"]["Tier"] == "private"]
        self.private = self.private_subnets[0]
        self.public = next(s["cidr_block"] for s in subnets if s["tags"]["Tier"] == "public")
        self._next = 10
        self.control_plane = address_peer("EKS control plane", host(self.private, 5), frozenset({"cluster"}))
        self.node = address_peer("node (kubelet)", host(self.private, 6), frozenset({"nodes"}))
        self.load_balancer = address_peer("load balancer", host(self.public, 5), frozenset({"load_balancers"}))
        self.public_address = address_peer("the load balancer's public address", LB_PUBLIC_ADDRESS)
        self.user = address_peer("a user on the internet", USER_ADDRESS)
        self.s3 = address_peer("Amazon S3 (gateway endpoint)", S3_ADDRESS)
        self.upstream = address_peer("upstream API (GitHub, GitLab, Jira)", UPSTREAM_ADDRESS)
        # "The Amazon DNS server ... at the base of the VPC network range plus two"
        # (docs.aws.amazon.com/vpc/latest/userguide/AmazonDNS-concepts.html).
        self.resolver = address_peer("VPC resolver", host(self.vpc_cidr, 2))
        self.interface_endpoints = set(env.plan.variable("interface_endpoints"))

    def pod(self, pod: Pod) -> Peer:
        """A peer for POD, with its own address in a private subnet (the VPC CNI gives pods VPC addresses)."""
        self._next += 1
        return pod_peer(pod, host(self.private, self._next))

    def aws(self, service: str) -> Peer:
        """An AWS API: its interface endpoint inside the VPC when the plan has one, else its public address."""
        if service in self.interface_endpoints:
            return address_peer(f"{service} interface endpoint", host(self.private, 7), frozenset({"endpoints"}))
        return address_peer(f"{service} (public, through NAT)", AWS_API_ADDRESS)


def scrape_flows(app: Rendered, net: Network, peers: dict[str, Peer], prometheus: Peer) -> list[Flow]:
    """Prometheus -> every port a ServiceMonitor or PodMonitor of the overlay scrapes."""
    flows = []
    for monitor in app.of_kind("ServiceMonitor"):
        for service in app.of_kind("Service"):
            if not selects(monitor["spec"]["selector"], service["metadata"].get("labels", {})):
                continue
            for endpoint in monitor["spec"]["endpoints"]:
                # The operator scrapes only selected Services that have a port of the endpoint's name
                # (prometheus-operator docs, ServiceMonitor "endpoints[].port": the name of the Service port).
                named = [p for p in service["spec"]["ports"] if p.get("name") == endpoint["port"]]
                if not named:
                    continue
                [svc_port] = named
                for peer in peers.values():
                    pod = peer.k8s
                    if selects({"matchLabels": service["spec"]["selector"]}, pod.labels):
                        target = svc_port.get("targetPort", svc_port["port"])
                        port = pod.ports[target] if isinstance(target, str) else target
                        flows.append(Flow(prometheus, peer, port, why=f"ServiceMonitor {monitor['metadata']['name']}"))
    for monitor in app.of_kind("PodMonitor"):
        for peer in peers.values():
            if selects(monitor["spec"]["selector"], peer.k8s.labels):
                for endpoint in monitor["spec"]["podMetricsEndpoints"]:
                    flows.append(
                        Flow(
                            prometheus,
                            peer,
                            peer.k8s.ports[endpoint["port"]],
                            why=f"PodMonitor {monitor['metadata']['name']}",
                        )
                    )
    return flows


def needed_flows(env: Environment, app: Rendered | None = None) -> list[Flow]:
    """Every flow ENV needs; APP overrides the rendered overlay (e.g. with an on-demand component added)."""
    app = app or env.app
    net = Network(env)
    all_pods = pods(app)
    all_pods.pop("stranger")
    peers = {name: net.pod(pod) for name, pod in all_pods.items()}
    web, worker = peers["hyperpage-web"], peers["hyperpage-worker"]
    dns, prometheus = net.pod(KUBE_DNS), net.pod(PROMETHEUS)
    istio = bool(app.of_kind("Gateway"))
    front = net.pod(GATEWAY if istio else INGRESS_NGINX)
    web_port = next(p["containerPort"] for p in web_container(app)[1]["ports"] if p["name"] == "http")
    sts, registry = net.aws("sts"), net.aws("ecr.dkr")

    flows = [Flow(net.user, net.load_balancer, 443, why="users reach the portal over HTTPS")]
    flows += [
        Flow(net.load_balancer, front, port, why="the load balancer forwards to the front proxy")
        for port in FRONT_PORTS
    ]
    if "hyperpage-oauth2-proxy" in peers:  # staging: sign-in in front of the portal (components/oauth2-proxy)
        auth = peers["hyperpage-oauth2-proxy"]
        flows += [
            Flow(front, auth, auth.k8s.ports["http"], why="the front proxy forwards to oauth2-proxy"),
            Flow(auth, web, web_port, why="oauth2-proxy forwards signed-in users to the web pods"),
            Flow(auth, net.upstream, 443, why="oauth2-proxy reaches the OpenID provider"),
        ]
    else:
        flows.append(Flow(front, web, web_port, why="the front proxy forwards to the web pods"))
    for pod in peers.values():
        flows += [Flow(pod, dns, 53, proto, why="cluster DNS") for proto in ("UDP", "TCP")]
    flows += [
        Flow(dns, net.resolver, 53, proto, why="CoreDNS forwards to the VPC resolver") for proto in ("UDP", "TCP")
    ]

    db, db_port = database_pod(app, all_pods)
    flows += [
        Flow(peers[name], peers[db.name], db_port, why="DATABASE_URL")
        for name in ("hyperpage-web", "hyperpage-worker", "hyperpage-migrate")
    ]
    if "HYPERPAGE_LISTEN_DATABASE_URL_FILE" in app.app_env(web_container(app)[1]):
        listen, listen_port = database_pod(app, all_pods, "HYPERPAGE_LISTEN_DATABASE_URL_FILE")
        flows.append(Flow(web, peers[listen.name], listen_port, why="LISTEN on the primary"))
    if "hyperpage-redis" in peers:
        flows.append(Flow(web, peers["hyperpage-redis"], 6379, why="rate limiter"))
    if "hyperpage-postgres-exporter" in peers:
        flows.append(Flow(peers["hyperpage-postgres-exporter"], peers[db.name], 5432, why="exporter queries"))
    flows.append(Flow(worker, net.upstream, 443, why="the worker syncs upstream APIs"))
    flows += scrape_flows(app, net, peers, prometheus)
    if istio:
        flows.append(Flow(web, net.pod(ISTIOD), 15012, why="sidecar xDS and certificates from istiod"))

    for src, dst, port, proto in backup_connections(app, all_pods):
        if dst.name in peers:
            flows.append(Flow(peers[src.name], peers[dst.name], port, proto, why="backup pods reach their server"))
    for workload, template in app.app_workloads():
        if template["metadata"]["labels"].get("app.kubernetes.io/component") == "backup":
            backup = peers[workload["metadata"]["name"]]
            flows += [Flow(backup, net.s3, 443, why="backups to S3"), Flow(backup, sts, 443, why="IRSA")]

    operator = net.pod(CNPG_OPERATOR)
    for cluster in app.of_kind("Cluster"):
        instance = peers[cluster["metadata"]["name"]]
        flows += [
            Flow(instance, instance, 5432, why="streaming replication"),
            Flow(operator, instance, 8000, why="operator reads instance status"),
            Flow(instance, net.s3, 443, why="WAL and base backups to S3 (barman-cloud)"),
            Flow(instance, sts, 443, why="IRSA for barman-cloud"),
            Flow(instance, net.control_plane, 443, why="instance manager watches the Cluster"),
        ]
    for pooler in app.of_kind("Pooler"):
        cluster = peers[pooler["spec"]["cluster"]["name"]]
        flows.append(Flow(peers[pooler["metadata"]["name"]], cluster, 5432, why="PgBouncer to the primary"))

    flows += acme_flows(app, net, front)
    flows += [Flow(net.control_plane, net.pod(hook.pod), hook.port, why=hook.name) for hook in WEBHOOKS]
    flows += [
        Flow(net.control_plane, net.node, 10250, why="kubelet: logs, exec, port-forward"),
        Flow(net.node, net.control_plane, 443, why="kubelet registers with the API"),
        Flow(net.node, registry, 443, why="image pulls"),
        Flow(net.node, net.s3, 443, why="image layers"),
    ]
    return flows


def acme_flows(app: Rendered, net: Network, front: Peer) -> list[Flow]:
    """HTTP-01 for an Ingress that asks cert-manager for its certificate: Let's Encrypt and cert-manager's own
    self-check fetch http://<host>/.well-known/acme-challenge/<token> through the public load balancer, and
    the ingress controller proxies it to the solver pod in the Ingress's namespace."""
    flows = []
    for ingress in app.of_kind("Ingress"):
        if "cert-manager.io/cluster-issuer" not in annotations(ingress):
            continue
        solver = net.pod(Pod(app.namespace, SOLVER, {"http": SOLVER_PORT}, name="cm-acme-http-solver"))
        flows += [
            Flow(net.user, net.load_balancer, 80, why="ACME validation servers fetch the challenge on port 80"),
            Flow(
                net.pod(CERT_MANAGER),
                net.public_address,
                80,
                why="cert-manager's self-check of the challenge URL, out through NAT to the load balancer",
            ),
            Flow(front, solver, SOLVER_PORT, why="the ingress controller proxies the challenge to the solver"),
        ]
    return flows


def vpc_cni_configuration(env: Environment) -> dict | None:
    """configuration_values of the planned vpc-cni add-on, parsed; None if it has none."""
    for addon in env.plan.resources("aws_eks_addon"):
        if addon["addon_name"] == "vpc-cni":
            raw = addon.get("configuration_values")
            return json.loads(raw) if raw else {}
    return None
