# Wrong values are refused at plan time with the variable's own message.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  environment                 = "development"
  cluster_public_access_cidrs = ["203.0.113.0/24"]
  aws_account_id              = "111122223333" # the account tests/mocks/aws.tfmock.hcl answers for
  app_namespace               = "hyperpage-dev"
}

run "unknown_environment" {
  command = plan
  variables {
    environment = "prod"
  }
  expect_failures = [var.environment]
}

run "api_open_to_the_world" {
  command = plan
  variables {
    cluster_public_access_cidrs = ["0.0.0.0/0"]
  }
  expect_failures = [var.cluster_public_access_cidrs]
}

run "invalid_subnet_cidr" {
  command = plan
  variables {
    private_subnet_cidrs = ["10.0.10.0/24", "10.0.11.0/33", "10.0.12.0/24"]
  }
  expect_failures = [var.private_subnet_cidrs]
}

run "node_group_sizes_out_of_order" {
  command = plan
  variables {
    node_groups = {
      main = { instance_types = ["c5.large"], min_size = 4, max_size = 3, desired_size = 3 }
    }
  }
  expect_failures = [var.node_groups]
}

run "unknown_capacity_type" {
  command = plan
  variables {
    node_groups = {
      main = { instance_types = ["c5.large"], capacity_type = "PREEMPTIBLE", min_size = 1, max_size = 3, desired_size = 1 }
    }
  }
  expect_failures = [var.node_groups]
}

run "two_zones_only" {
  command = plan
  variables {
    availability_zones = ["us-east-1a", "us-east-1b"]
  }
  expect_failures = [var.availability_zones]
}
