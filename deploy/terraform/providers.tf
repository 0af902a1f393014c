provider "aws" {
  region = var.region

  # Every resource carries these, so the bill can be split per environment and project.
  default_tags {
    tags = local.common_tags
  }
}
