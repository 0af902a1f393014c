terraform {
  required_version = ">= 1.7.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # Partial configuration: bucket, key, region and lock table come from envs/<env>.backend.hcl, so one
  # code base keeps a separate state per environment (`terraform init -backend-config=...`).
  backend "s3" {
    encrypt = true
  }
}
