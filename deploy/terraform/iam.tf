#### Cluster and node roles ####

data "aws_iam_policy_document" "assume_eks" {
  statement {
    actions = ["sts:AssumeRole", "sts:TagSession"]
    principals {
      type        = "Service"
      identifiers = ["eks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "cluster" {
  name               = "${local.name}-cluster"
  assume_role_policy = data.aws_iam_policy_document.assume_eks.json
}

resource "aws_iam_role_policy_attachment" "cluster" {
  role       = aws_iam_role.cluster.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonEKSClusterPolicy"
}

data "aws_iam_policy_document" "assume_ec2" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "nodes" {
  name               = "${local.name}-nodes"
  assume_role_policy = data.aws_iam_policy_document.assume_ec2.json
}

# The node role keeps only what the kubelet and the VPC CNI need; workloads get their own IRSA roles below.
resource "aws_iam_role_policy_attachment" "nodes" {
  for_each = toset(["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"])

  role       = aws_iam_role.nodes.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.key}"
}

#### Flow logs ####

data "aws_iam_policy_document" "assume_flow_logs" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "flow_logs" {
  name               = "${local.name}-flow-logs"
  assume_role_policy = data.aws_iam_policy_document.assume_flow_logs.json
}

data "aws_iam_policy_document" "flow_logs" {
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.flow_logs.arn}:*"]
  }
}

resource "aws_iam_role_policy" "flow_logs" {
  name   = "write-flow-logs"
  role   = aws_iam_role.flow_logs.id
  policy = data.aws_iam_policy_document.flow_logs.json
}

#### IRSA: one role per service account ####

resource "aws_iam_openid_connect_provider" "eks" {
  url             = aws_eks_cluster.this.identity[0].oidc[0].issuer
  client_id_list  = ["sts.amazonaws.com"]
  thumbprint_list = ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"] # Amazon root CA 1; EKS ignores it but the API wants one
}

locals {
  oidc_issuer = replace(aws_iam_openid_connect_provider.eks.url, "https://", "")

  # Each role is assumable only by one service account in one namespace, never by the whole cluster.
  irsa_roles = {
    ebs-csi-driver               = { namespace = "kube-system", service_account = "ebs-csi-controller-sa" }
    aws-load-balancer-controller = { namespace = "kube-system", service_account = "aws-load-balancer-controller" }
    backups                      = { namespace = var.app_namespace, service_account = "hyperpage-backup" }
    # CloudNativePG creates one ServiceAccount per Cluster, named after it; the barman-cloud plugin's sidecar
    # in the instance pods archives WAL and base backups with it (components/postgres-cnpg: hyperpage-db;
    # the on-demand point-in-time recovery, components/backup/cnpg/recovery: hyperpage-db-pitr).
    cnpg-backup      = { namespace = var.app_namespace, service_account = "hyperpage-db" }
    cnpg-pitr-backup = { namespace = var.app_namespace, service_account = "hyperpage-db-pitr" }
  }
}

data "aws_iam_policy_document" "assume_irsa" {
  for_each = local.irsa_roles

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.eks.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer}:sub"
      values   = ["system:serviceaccount:${each.value.namespace}:${each.value.service_account}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "irsa" {
  for_each           = local.irsa_roles
  name               = "${local.name}-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.assume_irsa[each.key].json
}

resource "aws_iam_role_policy_attachment" "ebs_csi" {
  role       = aws_iam_role.irsa["ebs-csi-driver"].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
}

resource "aws_iam_role_policy" "irsa" {
  for_each = {
    aws-load-balancer-controller = data.aws_iam_policy_document.load_balancer_controller.json
    backups                      = data.aws_iam_policy_document.backups.json
    cnpg-backup                  = data.aws_iam_policy_document.backups.json
    cnpg-pitr-backup             = data.aws_iam_policy_document.backups.json
  }

  name   = each.key
  role   = aws_iam_role.irsa[each.key].id
  policy = each.value
}

# External Secrets reads only this environment's application secrets (hyperpage/<env>/...). Its role is an EKS
# Pod Identity role (platform.tf), so the operator's ServiceAccount needs no account-specific annotation.
data "aws_iam_policy_document" "external_secrets" {
  statement {
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = ["arn:${local.partition}:secretsmanager:${var.region}:${local.account_id}:secret:${var.project}/${var.environment}/*"]
  }
  statement {
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.this.arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${var.region}.amazonaws.com"]
    }
  }
}

# Backups (logical dumps, and barman-cloud's WAL and base backups) write, list, read back (verify/restore) and
# prune objects in the backup bucket, and nothing else.
data "aws_iam_policy_document" "backups" {
  statement {
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [aws_s3_bucket.backups.arn]
  }
  statement {
    actions   = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = ["${aws_s3_bucket.backups.arn}/*"]
  }
  statement {
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.this.arn]
  }
}
