#### Block storage ####

# Every new EBS volume in the region is encrypted, including PVCs the EBS CSI driver creates for PostgreSQL.
resource "aws_ebs_encryption_by_default" "this" {
  enabled = true
}

#### Backup bucket (pg_dump archives, pgBackRest/CNPG WAL archives) ####

resource "aws_s3_bucket" "backups" {
  #checkov:skip=CKV_AWS_18:Access logging would need a second bucket per environment; CloudTrail data events cover audits
  #checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery choice left to the operator (doubles storage cost)
  #checkov:skip=CKV2_AWS_62:Nothing consumes bucket events; backups are verified by the backup CronJob itself
  bucket = "${local.name}-backups-${local.account_id}"

  # Production backups survive `terraform destroy` unless someone empties the bucket on purpose.
  force_destroy = !local.is_production
}

resource "aws_s3_bucket_ownership_controls" "backups" {
  bucket = aws_s3_bucket.backups.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "backups" {
  bucket                  = aws_s3_bucket.backups.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "backups" {
  bucket = aws_s3_bucket.backups.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "backups" {
  bucket = aws_s3_bucket.backups.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
    bucket_key_enabled = true # one KMS call per object batch instead of per object: cheaper for WAL segments
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "backups" {
  bucket = aws_s3_bucket.backups.id

  rule {
    id     = "expire-backups"
    status = "Enabled"
    filter {}

    # Old backups move to infrequent access after a month, then expire; overwritten versions go sooner.
    dynamic "transition" {
      for_each = var.backup_retention_days > 30 ? [1] : []
      content {
        days          = 30
        storage_class = "STANDARD_IA"
      }
    }
    expiration {
      days = var.backup_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 2
    }
  }

  depends_on = [aws_s3_bucket_versioning.backups]
}

data "aws_iam_policy_document" "backups_bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.backups.arn,
      "${aws_s3_bucket.backups.arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "backups" {
  bucket = aws_s3_bucket.backups.id
  policy = data.aws_iam_policy_document.backups_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.backups]
}

#### Optional RDS PostgreSQL (the alternative to PostgreSQL in the cluster) ####

resource "aws_db_subnet_group" "this" {
  count      = var.enable_rds ? 1 : 0
  name       = "${local.name}-database"
  subnet_ids = aws_subnet.database[*].id
}

resource "aws_db_parameter_group" "this" {
  count  = var.enable_rds ? 1 : 0
  name   = "${local.name}-postgres15"
  family = "postgres15"

  parameter {
    name  = "log_min_duration_statement"
    value = "500" # ms: slow queries show up in the exported postgresql log
  }
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }
}

resource "aws_db_instance" "this" {
  #checkov:skip=CKV_AWS_118:Enhanced monitoring needs its own IAM role; Performance Insights and CloudWatch metrics cover it
  #checkov:skip=CKV2_AWS_30:Query logging of every statement would log user data; slow queries are logged instead
  count = var.enable_rds ? 1 : 0

  identifier     = "${local.name}-postgres"
  engine         = "postgres"
  engine_version = "15"
  instance_class = var.rds_instance_class
  db_name        = "hyperpage"
  username       = "hyperpage"

  # RDS generates the password and keeps it in Secrets Manager: it never passes through Terraform state.
  manage_master_user_password   = true
  master_user_secret_kms_key_id = aws_kms_key.this.arn

  allocated_storage     = var.rds_allocated_storage_gb
  max_allocated_storage = var.rds_allocated_storage_gb * 4
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.this.arn

  multi_az               = local.is_production
  db_subnet_group_name   = aws_db_subnet_group.this[0].name
  vpc_security_group_ids = [aws_security_group.database.id]
  parameter_group_name   = aws_db_parameter_group.this[0].name
  publicly_accessible    = false

  iam_database_authentication_enabled = true
  performance_insights_enabled        = true
  performance_insights_kms_key_id     = aws_kms_key.this.arn
  enabled_cloudwatch_logs_exports     = ["postgresql", "upgrade"]
  auto_minor_version_upgrade          = true
  backup_retention_period             = local.is_production ? 14 : 3
  copy_tags_to_snapshot               = true
  deletion_protection                 = local.is_production
  skip_final_snapshot                 = !local.is_production
  final_snapshot_identifier           = "${local.name}-postgres-final"
}
