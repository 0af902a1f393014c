# Production: a NAT gateway per zone, node groups sized for the peak (tests/deploy/system/test_capacity.py),
# 90 days of logs and backups.
environment        = "production"
region             = "us-east-1"
single_nat_gateway = false

cluster_public_access_cidrs = ["203.0.113.0/24"]

flow_log_retention_days = 90
backup_retention_days   = 90

# The account this environment lives in (here AWS's documentation example account) and the overlay's namespace:
# deploy/k8s/overlays/production names the same account in its IRSA role ARNs and backup bucket, and the IRSA roles
# trust service accounts of that namespace only (tests/deploy/system/test_identity.py compares them).
aws_account_id = "111122223333"
app_namespace  = "hyperpage-production"

# Sized for the HPA maximum plus rollout surge (75 web pods of 1 CPU / 4Gi + a 100m/128Mi sidecar):
# - main: general purpose, 4 GiB per vCPU like the web pods; an m*.2xlarge offers pods about 28.6 GiB and
#   7.9 cores, six web pods, so 75 need 13 nodes (16 leave room for Redis, the Jobs and a node being drained).
#   A c5.large (3 GiB allocatable) could never hold one.
# - critical: the database tier only (CloudNativePG instances, one per zone, and the PgBouncer pods tolerate
#   its taint and select it).
# - spot: the sync workers, which tolerate its taint and prefer it.
node_groups = {
  main = {
    instance_types = ["m6i.2xlarge", "m5.2xlarge", "m5a.2xlarge"]
    min_size       = 3
    max_size       = 16
    desired_size   = 3
    labels         = { workload = "general" }
  }
  critical = {
    instance_types = ["c5.2xlarge", "c5a.2xlarge"]
    min_size       = 3
    max_size       = 5
    desired_size   = 3
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
