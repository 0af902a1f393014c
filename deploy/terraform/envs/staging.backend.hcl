# terraform init -backend-config=envs/staging.backend.hcl (scripts/deploy-terraform.sh creates bucket and table).
bucket         = "hyperpage-terraform-state-staging"
key            = "hyperpage/staging/terraform.tfstate"
region         = "us-east-1"
dynamodb_table = "hyperpage-terraform-locks"
encrypt        = true
