# terraform init -backend-config=envs/production.backend.hcl (scripts/deploy-terraform.sh creates bucket and table).
bucket         = "hyperpage-terraform-state-production"
key            = "hyperpage/production/terraform.tfstate"
region         = "us-east-1"
dynamodb_table = "hyperpage-terraform-locks"
encrypt        = true
