# Production: a NAT gateway per zone, the default node groups (main 3-10, critical 1-5, spot 0-5),
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
