# terraform test -filter=tests/staging.tftest.hcl -var-file=envs/staging.tfvars

mock_provider "aws" {
  source = "./tests/mocks"
}

run "staging" {
  command = apply

  assert {
    condition     = length(aws_nat_gateway.this) == 1
    error_message = "staging shares one NAT gateway."
  }

  assert {
    condition     = toset(keys(aws_eks_node_group.this)) == toset(["main", "critical", "spot"])
    error_message = "staging has production's three node groups."
  }

  assert {
    condition     = [for t in aws_eks_node_group.this["spot"].taint : "${t.key}=${t.value}:${t.effect}"] == ["spot=true:NO_SCHEDULE"]
    error_message = "the spot group must carry the taint spot=true:NoSchedule."
  }
}
