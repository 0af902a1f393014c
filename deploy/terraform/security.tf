# Security groups hold no inline rules: each rule is its own resource with a description, so a review (and
# the terraform tests) can see exactly which port is open to whom. Only the load balancers face 0.0.0.0/0.

#### Groups ####

resource "aws_security_group" "cluster" {
  name        = "${local.name}-cluster"
  description = "EKS control plane ENIs: API from nodes, calls to kubelets and webhooks"
  vpc_id      = aws_vpc.this.id
  tags        = { Name = "${local.name}-cluster" }
}

resource "aws_security_group" "nodes" {
  name        = "${local.name}-nodes"
  description = "EKS worker nodes and pods (VPC CNI gives pods the node security group)"
  vpc_id      = aws_vpc.this.id
  tags        = { Name = "${local.name}-nodes" }
}

resource "aws_security_group" "load_balancers" {
  #checkov:skip=CKV2_AWS_5:Attached by the AWS Load Balancer Controller through the Ingress annotation, not by Terraform
  name        = "${local.name}-load-balancers"
  description = "Internet-facing load balancers: HTTPS and HTTP (redirect) in, app port out to pods"
  vpc_id      = aws_vpc.this.id
  tags        = { Name = "${local.name}-load-balancers" }
}

resource "aws_security_group" "database" {
  #checkov:skip=CKV2_AWS_5:Attached to RDS only when enable_rds is true; kept so the rule set is reviewed either way
  name        = "${local.name}-database"
  description = "PostgreSQL reachable from the worker nodes only; no egress"
  vpc_id      = aws_vpc.this.id
  tags        = { Name = "${local.name}-database" }
}

resource "aws_security_group" "endpoints" {
  name        = "${local.name}-endpoints"
  description = "Interface VPC endpoints: HTTPS from inside the VPC"
  vpc_id      = aws_vpc.this.id
  tags        = { Name = "${local.name}-endpoints" }
}

#### Control plane ####

resource "aws_vpc_security_group_ingress_rule" "cluster_api_from_nodes" {
  security_group_id            = aws_security_group.cluster.id
  description                  = "Kubernetes API from worker nodes"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.nodes.id
}

# Control plane to nodes: the API server calls admission webhooks and aggregated APIs on the pod's container
# port (the Service's targetPort), and the kubelet on 10250. Each port is the chart default of what the
# platform layer registers (tests/deploy/system/flows.py WEBHOOKS lists them with their sources):
#   443    webhooks served on 443
#   6443   prometheus-adapter (custom.metrics.k8s.io, the HPA's requests-per-second metric)
#   8443   ingress-nginx admission, Karpenter
#   9443   CloudNativePG operator, AWS Load Balancer Controller
#   10250  kubelet (logs, exec), cert-manager, external-secrets and prometheus-operator webhooks, metrics-server
#   10251  metrics-server as the EKS add-on
#   15017  istiod (sidecar injection, config validation)
# A webhook on any other port fails closed (pod or Ingress creation is refused): add its port here.
locals {
  control_plane_to_node_ports = toset(["443", "6443", "8443", "9443", "10250", "10251", "15017"])
  # The public load balancer forwards to the ingress controller's pods (ingress-nginx, or the Istio ingress
  # gateway in production) on their HTTP and HTTPS container ports (IP targets): ingress-nginx chart
  # controller.containerPort {http: 80, https: 443}, Istio gateway chart service ports targeting 80 and 443.
  ingress_controller_ports = toset(["80", "443"])
}

resource "aws_vpc_security_group_egress_rule" "cluster_to_nodes" {
  for_each                     = local.control_plane_to_node_ports
  security_group_id            = aws_security_group.cluster.id
  description                  = "Control plane to nodes on ${each.key}"
  ip_protocol                  = "tcp"
  from_port                    = each.key
  to_port                      = each.key
  referenced_security_group_id = aws_security_group.nodes.id
}

#### Nodes ####

resource "aws_vpc_security_group_ingress_rule" "nodes_from_self" {
  security_group_id            = aws_security_group.nodes.id
  description                  = "Pod-to-pod and node-to-node traffic, including DNS"
  ip_protocol                  = "-1"
  referenced_security_group_id = aws_security_group.nodes.id
}

resource "aws_vpc_security_group_ingress_rule" "nodes_from_cluster" {
  for_each                     = local.control_plane_to_node_ports
  security_group_id            = aws_security_group.nodes.id
  description                  = "Control plane to nodes on ${each.key}"
  ip_protocol                  = "tcp"
  from_port                    = each.key
  to_port                      = each.key
  referenced_security_group_id = aws_security_group.cluster.id
}

resource "aws_vpc_security_group_ingress_rule" "nodes_app_from_lb" {
  security_group_id            = aws_security_group.nodes.id
  description                  = "Load balancer to web pods (IP target mode)"
  ip_protocol                  = "tcp"
  from_port                    = var.app_port
  to_port                      = var.app_port
  referenced_security_group_id = aws_security_group.load_balancers.id
}

resource "aws_vpc_security_group_ingress_rule" "nodes_ingress_controller_from_lb" {
  #checkov:skip=CKV_AWS_260:The source is the load balancers' security group, not 0.0.0.0/0 (checkov misreads the for_each rule); port 80 carries the HTTPS redirect and ACME HTTP-01
  for_each                     = local.ingress_controller_ports
  security_group_id            = aws_security_group.nodes.id
  description                  = "Load balancer to ingress controller pods on ${each.key} (IP target mode)"
  ip_protocol                  = "tcp"
  from_port                    = each.key
  to_port                      = each.key
  referenced_security_group_id = aws_security_group.load_balancers.id
}

resource "aws_vpc_security_group_egress_rule" "nodes_to_self" {
  security_group_id            = aws_security_group.nodes.id
  description                  = "Pod-to-pod and node-to-node traffic, including DNS"
  ip_protocol                  = "-1"
  referenced_security_group_id = aws_security_group.nodes.id
}

resource "aws_vpc_security_group_egress_rule" "nodes_to_cluster" {
  security_group_id            = aws_security_group.nodes.id
  description                  = "Kubernetes API"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.cluster.id
}

# HTTPS out through NAT: image registries and the upstream APIs the sync workers read (GitHub, GitLab, Jira).
resource "aws_vpc_security_group_egress_rule" "nodes_https_out" {
  security_group_id = aws_security_group.nodes.id
  description       = "HTTPS to registries, AWS APIs and upstream developer tools"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

# cert-manager checks an HTTP-01 challenge itself before asking the CA to validate it: it fetches
# http://<host>/.well-known/acme-challenge/<token>, which resolves to the public load balancer and leaves
# through NAT on port 80 (cert-manager.io/docs/troubleshooting/acme/: "propagation check" of HTTP01).
resource "aws_vpc_security_group_egress_rule" "nodes_acme_http_out" {
  security_group_id = aws_security_group.nodes.id
  description       = "HTTP to the public load balancer: cert-manager's HTTP-01 self-check"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "nodes_dns" {
  for_each          = toset(["tcp", "udp"])
  security_group_id = aws_security_group.nodes.id
  description       = "DNS to the VPC resolver (${each.key})"
  ip_protocol       = each.key
  from_port         = 53
  to_port           = 53
  cidr_ipv4         = var.vpc_cidr
}

resource "aws_vpc_security_group_egress_rule" "nodes_to_database" {
  security_group_id            = aws_security_group.nodes.id
  description                  = "PostgreSQL on RDS"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.database.id
}

#### Load balancers ####

resource "aws_vpc_security_group_ingress_rule" "lb_https" {
  security_group_id = aws_security_group.load_balancers.id
  description       = "HTTPS from users"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "lb_http" {
  #checkov:skip=CKV_AWS_260:Port 80 on the public load balancer only answers with a redirect to HTTPS
  security_group_id = aws_security_group.load_balancers.id
  description       = "HTTP from users, redirected to HTTPS by the listener"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "lb_to_app" {
  security_group_id            = aws_security_group.load_balancers.id
  description                  = "Web pods (IP target mode)"
  ip_protocol                  = "tcp"
  from_port                    = var.app_port
  to_port                      = var.app_port
  referenced_security_group_id = aws_security_group.nodes.id
}

resource "aws_vpc_security_group_egress_rule" "lb_to_ingress_controller" {
  for_each                     = local.ingress_controller_ports
  security_group_id            = aws_security_group.load_balancers.id
  description                  = "Ingress controller pods on ${each.key} (IP target mode)"
  ip_protocol                  = "tcp"
  from_port                    = each.key
  to_port                      = each.key
  referenced_security_group_id = aws_security_group.nodes.id
}

#### Database and endpoints ####

resource "aws_vpc_security_group_ingress_rule" "database_from_nodes" {
  security_group_id            = aws_security_group.database.id
  description                  = "PostgreSQL from worker nodes"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.nodes.id
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_https" {
  security_group_id = aws_security_group.endpoints.id
  description       = "HTTPS to AWS APIs from inside the VPC"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = var.vpc_cidr
}
