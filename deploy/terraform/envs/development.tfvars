# Development: one shared NAT gateway, small node groups, short log retention. Cost notes: docs/operations.md.
environment        = "development"
region             = "us-east-1"
single_nat_gateway = true

# Little traffic here: image pulls and logs through the NAT gateway cost less than four interface endpoints.
interface_endpoints = []

# Documentation range (RFC 5737); replace with the office/VPN and CI egress addresses.
cluster_public_access_cidrs = ["203.0.113.0/24"]

flow_log_retention_days = 7
backup_retention_days   = 7

node_groups = {
  main = {
    instance_types = ["c5.large", "c5a.large"]
    min_size       = 1
    max_size       = 3
    desired_size   = 2
    labels         = { workload = "general" }
  }
  critical = {
    instance_types = ["c5.large", "c5a.large"]
    min_size       = 1
    max_size       = 2
    desired_size   = 1
    labels         = { workload = "critical" }
    taints         = [{ key = "critical", value = "true", effect = "NO_SCHEDULE" }]
  }
  spot = {
    instance_types = ["c5.large", "c5a.large", "c6i.large", "m5.large"]
    capacity_type  = "SPOT"
    min_size       = 0
    max_size       = 3
    desired_size   = 0
    labels         = { workload = "spot" }
    taints         = [{ key = "spot", value = "true", effect = "NO_SCHEDULE" }]
  }
}

# The account this environment lives in (here AWS's documentation example account) and the overlay's namespace:
# deploy/k8s/overlays/development names the same account in its IRSA role ARNs and backup bucket, and the IRSA roles
# trust service accounts of that namespace only (tests/deploy/system/test_identity.py compares them).
aws_account_id = "111122223333"
app_namespace  = "hyperpage-dev"
