# Production: a NAT gateway per zone, the default node groups (main 3-10, critical 1-5, spot 0-5),
# 90 days of logs and backups.
environment        = "production"
region             = "us-east-1"
single_nat_gateway = false

cluster_public_access_cidrs = ["203.0.113.0/24"]

flow_log_retention_days = 90
backup_retention_days   = 90
