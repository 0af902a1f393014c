# terraform init -backend-config=envs/development.backend.hcl (scripts/deploy-terraform.sh creates bucket and table).
bucket         = "hyperpage-terraform-state-development"
key            = "hyperpage/development/terraform.tfstate"
region         = "us-east-1"
dynamodb_table = "hyperpage-terraform-locks"
encrypt        = true
