# terraform test -filter=tests/production.tftest.hcl -var-file=envs/production.tfvars
# Facts production must keep, checked on a mocked apply of the real envs/production.tfvars.

mock_provider "aws" {
  source = "./tests/mocks"
}

run "production" {
  command = apply

  assert {
    condition     = length(aws_nat_gateway.this) == 3 && length(distinct(aws_route.private_nat[*].nat_gateway_id)) == 3
    error_message = "production needs one NAT gateway per zone, each private route table using its own."
  }

  assert {
    condition     = toset(keys(aws_vpc_endpoint.interface)) == toset(["ecr.api", "ecr.dkr", "logs", "sts"])
    error_message = "production reaches ECR, CloudWatch Logs and STS through interface endpoints."
  }

  assert {
    condition     = length(aws_subnet.public) == 3 && length(aws_subnet.private) == 3 && length(aws_subnet.database) == 3
    error_message = "production spans three zones with public, private and database subnets."
  }

  assert {
    condition     = toset(aws_subnet.private[*].cidr_block) == toset(["10.0.10.0/24", "10.0.11.0/24", "10.0.12.0/24"])
    error_message = "private subnets must be 10.0.10-12.0/24."
  }

  assert {
    condition     = aws_eks_node_group.this["spot"].capacity_type == "SPOT" && aws_eks_node_group.this["spot"].scaling_config[0].min_size == 0 && aws_eks_node_group.this["spot"].scaling_config[0].max_size == 5
    error_message = "the spot group runs SPOT capacity, 0-5 nodes."
  }

  assert {
    condition     = [for t in aws_eks_node_group.this["spot"].taint : "${t.key}=${t.value}:${t.effect}"] == ["spot=true:NO_SCHEDULE"]
    error_message = "the spot group must carry the taint spot=true:NoSchedule."
  }

  assert {
    condition     = [for t in aws_eks_node_group.this["critical"].taint : "${t.key}=${t.value}:${t.effect}"] == ["critical=true:NO_SCHEDULE"]
    error_message = "the critical group must carry the taint critical=true:NoSchedule."
  }

  assert {
    condition     = aws_eks_node_group.this["main"].scaling_config[0].min_size == 3 && aws_eks_node_group.this["main"].scaling_config[0].max_size == 16 && aws_eks_node_group.this["main"].capacity_type == "ON_DEMAND" && aws_eks_node_group.this["main"].instance_types == tolist(["m6i.2xlarge", "m5.2xlarge", "m5a.2xlarge"])
    error_message = "the main group is on-demand m6i/m5/m5a.2xlarge, 3-16 nodes: 13 hold the 75 web pods of the peak (tests/deploy/system/test_capacity.py)."
  }

  assert {
    condition     = aws_eks_node_group.this["critical"].instance_types == tolist(["c5.2xlarge", "c5a.2xlarge"]) && aws_eks_node_group.this["critical"].scaling_config[0].max_size == 5
    error_message = "the critical group uses c5.2xlarge/c5a.2xlarge, up to 5 nodes."
  }

  assert {
    condition     = length(aws_eks_addon.this) == 7 && aws_eks_addon.this["aws-ebs-csi-driver"].service_account_role_arn == aws_iam_role.irsa["ebs-csi-driver"].arn
    error_message = "all seven add-ons are installed, the EBS CSI driver with its IRSA role."
  }

  assert {
    condition     = jsondecode(aws_eks_addon.this["vpc-cni"].configuration_values).enableNetworkPolicy == "true"
    error_message = "the VPC CNI enforces NetworkPolicies (enableNetworkPolicy)."
  }

  assert {
    condition     = aws_ebs_default_kms_key.this[0].key_arn == aws_kms_key.this.arn
    error_message = "new EBS volumes (the gp3 StorageClass) are encrypted with the environment key."
  }

  assert {
    condition     = toset([for a in aws_eks_pod_identity_association.this : "${a.namespace}/${a.service_account}"]) == toset(["kube-system/cluster-autoscaler", "external-secrets/external-secrets"])
    error_message = "the cluster autoscaler and External Secrets get their roles through Pod Identity."
  }

  assert {
    condition     = aws_eks_cluster.this.vpc_config[0].endpoint_private_access && !contains(aws_eks_cluster.this.vpc_config[0].public_access_cidrs, "0.0.0.0/0")
    error_message = "the API has a private endpoint and the public one is restricted."
  }

  assert {
    condition     = length(aws_eks_cluster.this.enabled_cluster_log_types) == 5
    error_message = "all five control-plane log types are enabled."
  }

  assert {
    condition     = aws_cloudwatch_log_group.flow_logs.retention_in_days == 90 && aws_s3_bucket_lifecycle_configuration.backups.rule[0].expiration[0].days == 90
    error_message = "production keeps flow logs and backups 90 days."
  }

  assert {
    condition     = !aws_s3_bucket.backups.force_destroy && aws_kms_key.this.deletion_window_in_days == 30
    error_message = "production backups and the key must survive an accidental destroy."
  }

  assert {
    condition     = length(aws_db_instance.this) == 0
    error_message = "RDS is off unless enable_rds is set."
  }
}

run "production_with_rds" {
  command = apply

  variables {
    enable_rds = true
  }

  assert {
    condition     = aws_db_instance.this[0].multi_az && aws_db_instance.this[0].storage_encrypted && aws_db_instance.this[0].engine_version == "15"
    error_message = "production RDS is PostgreSQL 15, multi-AZ and encrypted."
  }

  assert {
    condition     = !aws_db_instance.this[0].publicly_accessible && aws_db_instance.this[0].deletion_protection && aws_db_instance.this[0].manage_master_user_password
    error_message = "production RDS is private, protected from deletion, and its password is managed by RDS."
  }

  assert {
    condition     = toset(aws_db_subnet_group.this[0].subnet_ids) == toset(aws_subnet.database[*].id)
    error_message = "RDS lives in the database subnets."
  }
}
