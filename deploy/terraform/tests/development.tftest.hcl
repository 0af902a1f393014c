# terraform test -filter=tests/development.tftest.hcl -var-file=envs/development.tfvars

mock_provider "aws" {
  source = "./tests/mocks"
}

run "development" {
  command = apply

  assert {
    condition     = length(aws_nat_gateway.this) == 1 && length(distinct(aws_route.private_nat[*].nat_gateway_id)) == 1
    error_message = "development shares a single NAT gateway between the three zones."
  }

  assert {
    condition     = length(aws_route.private_nat) == 3
    error_message = "every private subnet still routes to the internet through the shared NAT gateway."
  }

  assert {
    condition     = length(aws_vpc_endpoint.interface) == 0 && length(aws_vpc_endpoint.s3.route_table_ids) == 4
    error_message = "development has no interface endpoints but keeps the free S3 gateway endpoint."
  }

  assert {
    condition     = aws_s3_bucket.backups.force_destroy && aws_kms_key.this.deletion_window_in_days == 7
    error_message = "development can be torn down completely."
  }

  assert {
    condition     = aws_eks_node_group.this["main"].scaling_config[0].max_size <= 3 && aws_eks_node_group.this["spot"].capacity_type == "SPOT"
    error_message = "development keeps the node groups small and the spot group on spot capacity."
  }
}

run "development_rds_single_az" {
  command = apply

  variables {
    enable_rds = true
  }

  assert {
    condition     = !aws_db_instance.this[0].multi_az && !aws_db_instance.this[0].deletion_protection && aws_db_instance.this[0].storage_encrypted
    error_message = "development RDS is single-AZ, deletable and still encrypted."
  }
}
