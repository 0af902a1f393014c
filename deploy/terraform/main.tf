# Hyperpage on AWS: a three-zone VPC, an EKS cluster with three managed node groups, IRSA roles, an encrypted
# backup bucket and, optionally, RDS PostgreSQL. In-cluster objects belong to Kustomize/Argo CD, not here.

data "aws_caller_identity" "current" {
  # The kit's manifests name the account (IRSA role ARNs, the backup bucket); credentials of another account
  # would build an environment none of them point at.
  lifecycle {
    postcondition {
      condition     = self.account_id == var.aws_account_id
      error_message = "aws_account_id (${var.aws_account_id}) is not the account of the AWS credentials (${self.account_id})."
    }
  }
}

data "aws_partition" "current" {}

locals {
  name       = "${var.project}-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  azs        = length(var.availability_zones) > 0 ? var.availability_zones : [for s in ["a", "b", "c"] : "${var.region}${s}"]

  is_production = var.environment == "production"
  nat_count     = var.single_nat_gateway ? 1 : length(local.azs)

  cluster_name = local.name

  # Created by AWS on the first Auto Scaling group in the account; managed node groups launch through it.
  autoscaling_service_role_arn = "arn:${local.partition}:iam::${local.account_id}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"

  common_tags = merge(var.extra_tags, {
    Project     = var.project
    Environment = var.environment
    ManagedBy   = "terraform"
  })
}

#### Encryption key ####

# One customer-managed key per environment encrypts Kubernetes secrets, logs, the backup bucket and RDS,
# so revoking it (or auditing its use) covers every copy of the data.
resource "aws_kms_key" "this" {
  description             = "${local.name}: EKS secrets, logs, backups, RDS"
  enable_key_rotation     = true
  deletion_window_in_days = local.is_production ? 30 : 7
  policy                  = data.aws_iam_policy_document.kms.json

  # The key policy names the Auto Scaling service-linked role, which KMS requires to exist.
  depends_on = [aws_iam_service_linked_role.autoscaling]
}

resource "aws_kms_alias" "this" {
  name          = "alias/${local.name}"
  target_key_id = aws_kms_key.this.key_id
}

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:This is a key policy: "*" means this key only, and the account root statement is the AWS default
  #checkov:skip=CKV_AWS_111:Key policy: "*" is this key; without the root statement the key becomes unmanageable
  #checkov:skip=CKV_AWS_356:Key policy: the resource of a key policy statement is always "*" (the key itself)
  statement {
    sid       = "AccountAdministration"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # CloudWatch Logs encrypts flow logs and control-plane logs with this key, only for this account's groups.
  statement {
    sid       = "CloudWatchLogs"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:*"]
    }
  }

  # Node root volumes (launch templates) and PVCs are encrypted with this key. Managed node groups launch
  # instances through EC2 Auto Scaling, which uses its service-linked role; without these two statements
  # instances fail to launch and the node group never becomes ACTIVE. AWS docs, EC2 Auto Scaling User
  # Guide, "Required AWS KMS key policy for use with encrypted volumes".
  statement {
    sid       = "AutoScalingServiceLinkedRoleUse"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = [local.autoscaling_service_role_arn]
    }
  }

  statement {
    sid       = "AutoScalingServiceLinkedRoleGrants"
    actions   = ["kms:CreateGrant"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = [local.autoscaling_service_role_arn]
    }
    condition {
      test     = "Bool"
      variable = "kms:GrantIsForAWSResource"
      values   = ["true"]
    }
  }
}

# New EBS volumes without an explicit key (the gp3 StorageClass in deploy/platform sets none) use this
# environment's key, so no account-specific key ARN appears in a manifest.
resource "aws_ebs_default_kms_key" "this" {
  count   = var.manage_ebs_default_kms_key ? 1 : 0
  key_arn = aws_kms_key.this.arn
}
