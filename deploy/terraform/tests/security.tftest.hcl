# Run with each envs/<env>.tfvars: encryption everywhere, metadata locked down, and only the load balancers
# open to the internet. tests/deploy/terraform also checks the last point on every planned rule.

mock_provider "aws" {
  source = "./tests/mocks"
}

run "encryption_and_exposure" {
  command = apply

  assert {
    condition     = aws_eks_cluster.this.encryption_config[0].resources == toset(["secrets"]) && aws_eks_cluster.this.encryption_config[0].provider[0].key_arn == aws_kms_key.this.arn
    error_message = "Kubernetes secrets are encrypted with the environment's KMS key."
  }

  assert {
    condition     = aws_kms_key.this.enable_key_rotation
    error_message = "the KMS key rotates."
  }

  assert {
    condition     = aws_ebs_encryption_by_default.this.enabled
    error_message = "EBS encryption by default is on."
  }

  assert {
    condition = alltrue([for lt in aws_launch_template.nodes :
      lt.block_device_mappings[0].ebs[0].encrypted == "true" && lt.metadata_options[0].http_tokens == "required" && lt.metadata_options[0].http_put_response_hop_limit == 1
    ])
    error_message = "node root volumes are encrypted and nodes require IMDSv2 with hop limit 1 (pods cannot reach the node role)."
  }

  assert {
    condition     = alltrue([for g in [aws_cloudwatch_log_group.flow_logs, aws_cloudwatch_log_group.eks] : g.kms_key_id == aws_kms_key.this.arn])
    error_message = "flow logs and control-plane logs are encrypted with the KMS key."
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.backups.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms"
    error_message = "the backup bucket uses SSE-KMS."
  }

  assert {
    condition = (aws_s3_bucket_public_access_block.backups.block_public_acls && aws_s3_bucket_public_access_block.backups.block_public_policy
    && aws_s3_bucket_public_access_block.backups.ignore_public_acls && aws_s3_bucket_public_access_block.backups.restrict_public_buckets)
    error_message = "public access to the backup bucket is blocked on all four switches."
  }

  assert {
    condition     = aws_s3_bucket_versioning.backups.versioning_configuration[0].status == "Enabled"
    error_message = "the backup bucket is versioned."
  }

  assert {
    condition = [for r in [
      aws_vpc_security_group_ingress_rule.cluster_api_from_nodes, aws_vpc_security_group_ingress_rule.nodes_from_self,
      aws_vpc_security_group_ingress_rule.nodes_from_cluster["443"], aws_vpc_security_group_ingress_rule.nodes_from_cluster["9443"],
      aws_vpc_security_group_ingress_rule.nodes_from_cluster["10250"], aws_vpc_security_group_ingress_rule.nodes_app_from_lb,
      aws_vpc_security_group_ingress_rule.nodes_from_cluster["15017"], aws_vpc_security_group_ingress_rule.nodes_ingress_controller_from_lb["80"],
      aws_vpc_security_group_ingress_rule.nodes_ingress_controller_from_lb["443"],
      aws_vpc_security_group_ingress_rule.lb_https, aws_vpc_security_group_ingress_rule.lb_http,
      aws_vpc_security_group_ingress_rule.database_from_nodes, aws_vpc_security_group_ingress_rule.endpoints_https,
    ] : "${r.security_group_id}:${r.from_port}" if r.cidr_ipv4 == "0.0.0.0/0"] == ["${aws_security_group.load_balancers.id}:443", "${aws_security_group.load_balancers.id}:80"]
    error_message = "only the load balancers' 443 and 80 are open to 0.0.0.0/0."
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.database_from_nodes.referenced_security_group_id == aws_security_group.nodes.id && aws_vpc_security_group_ingress_rule.database_from_nodes.from_port == 5432
    error_message = "PostgreSQL is reachable from the nodes only."
  }

  assert {
    condition     = length(aws_default_security_group.this.ingress) == 0 && length(aws_default_security_group.this.egress) == 0
    error_message = "the default security group allows nothing."
  }

  assert {
    condition     = aws_flow_log.this.traffic_type == "ALL"
    error_message = "flow logs record accepted and rejected traffic."
  }

  assert {
    condition     = length(aws_route_table.database.route) == 0
    error_message = "database subnets have no route out of the VPC."
  }
}
