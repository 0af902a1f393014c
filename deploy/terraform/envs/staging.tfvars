# Staging: production's shape (three node groups, same instance families) with one shared NAT gateway.
environment        = "staging"
region             = "us-east-1"
single_nat_gateway = true

cluster_public_access_cidrs = ["203.0.113.0/24"]

flow_log_retention_days = 14
backup_retention_days   = 14

node_groups = {
  # 15 web pods at the peak (HPA max 10 + 50% surge) of 500m / 2Gi: an m*.xlarge offers pods about 13.8 GiB,
  # six of them; a c5.large (3 GiB allocatable) holds one, so six of those could never hold fifteen.
  main = {
    instance_types = ["m6i.xlarge", "m5.xlarge", "m5a.xlarge"]
    min_size       = 2
    max_size       = 6
    desired_size   = 2
    labels         = { workload = "general" }
  }
  critical = {
    instance_types = ["c5.2xlarge", "c5a.2xlarge"]
    min_size       = 1
    max_size       = 3
    desired_size   = 1
    labels         = { workload = "critical" }
    taints         = [{ key = "critical", value = "true", effect = "NO_SCHEDULE" }]
  }
  spot = {
    instance_types = ["c5.large", "c5a.large", "c6i.large", "m5.large"]
    capacity_type  = "SPOT"
    min_size       = 0
    max_size       = 5
    desired_size   = 0
    labels         = { workload = "spot" }
    taints         = [{ key = "spot", value = "true", effect = "NO_SCHEDULE" }]
  }
}

# The account this environment lives in (here AWS's documentation example account) and the overlay's namespace:
# deploy/k8s/overlays/staging names the same account in its IRSA role ARNs and backup bucket, and the IRSA roles
# trust service accounts of that namespace only (tests/deploy/system/test_identity.py compares them).
aws_account_id = "111122223333"
app_namespace  = "hyperpage-staging"
