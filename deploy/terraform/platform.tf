#### Platform identities: what the cluster's own components may do in AWS ####

# EC2 Auto Scaling launches the managed node groups' instances with this role, and the key policy in main.tf
# names it: KMS refuses a key policy whose principal does not exist, so on a fresh account the role must
# exist first. An account that already has it (another environment, any earlier Auto Scaling group) sets
# create_autoscaling_service_linked_role = false.
resource "aws_iam_service_linked_role" "autoscaling" {
  count            = var.create_autoscaling_service_linked_role ? 1 : 0
  aws_service_name = "autoscaling.amazonaws.com"
}

# The EBS CSI driver creates and attaches PVC volumes encrypted with the environment key (the account's EBS
# default key, main.tf). AWS EBS CSI driver docs, "Installation - Set up driver permissions": with a
# customer-managed key the role also needs these KMS actions, grants only for AWS resources.
data "aws_iam_policy_document" "ebs_csi_kms" {
  statement {
    actions   = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]
    resources = [aws_kms_key.this.arn]
    condition {
      test     = "Bool"
      variable = "kms:GrantIsForAWSResource"
      values   = ["true"]
    }
  }
  statement {
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
    resources = [aws_kms_key.this.arn]
  }
}

resource "aws_iam_role_policy" "ebs_csi_kms" {
  name   = "environment-key"
  role   = aws_iam_role.irsa["ebs-csi-driver"].id
  policy = data.aws_iam_policy_document.ebs_csi_kms.json
}

# EKS Pod Identity: the association (cluster, namespace, service account) names the role, so the Helm charts'
# ServiceAccounts carry no account-specific ARN. Trust per EKS User Guide, "Create IAM role with trust policy
# required by EKS Pod Identity" (principal pods.eks.amazonaws.com, sts:AssumeRole and sts:TagSession).
locals {
  pod_identity_roles = {
    # deploy/platform: Helm release cluster-autoscaler in kube-system, ServiceAccount from its values.
    cluster-autoscaler = {
      namespace       = "kube-system"
      service_account = "cluster-autoscaler"
      policy          = data.aws_iam_policy_document.cluster_autoscaler.json
    }
    # deploy/platform: Helm release external-secrets in external-secrets (the chart's ServiceAccount).
    external-secrets = {
      namespace       = "external-secrets"
      service_account = "external-secrets"
      policy          = data.aws_iam_policy_document.external_secrets.json
    }
  }
}

data "aws_iam_policy_document" "assume_pod_identity" {
  statement {
    actions = ["sts:AssumeRole", "sts:TagSession"]
    principals {
      type        = "Service"
      identifiers = ["pods.eks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "pod_identity" {
  for_each           = local.pod_identity_roles
  name               = "${local.name}-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.assume_pod_identity.json
}

resource "aws_iam_role_policy" "pod_identity" {
  for_each = local.pod_identity_roles

  name   = each.key
  role   = aws_iam_role.pod_identity[each.key].id
  policy = each.value.policy
}

# Associations need the eks-pod-identity-agent add-on, so they come and go with the add-ons.
resource "aws_eks_pod_identity_association" "this" {
  for_each = var.enable_eks_addons ? local.pod_identity_roles : {}

  cluster_name    = aws_eks_cluster.this.name
  namespace       = each.value.namespace
  service_account = each.value.service_account
  role_arn        = aws_iam_role.pod_identity[each.key].arn
}

# Cluster Autoscaler with ASG auto-discovery, after its AWS README ("Full Cluster Autoscaler Features
# Policy"): read-only discovery everywhere (eks:DescribeNodegroup gives the labels and taints of a managed
# group at zero nodes, e.g. spot), and changes only to Auto Scaling groups EKS tagged as this cluster's.
data "aws_iam_policy_document" "cluster_autoscaler" {
  #checkov:skip=CKV_AWS_356:Describe calls cannot be scoped by resource; scaling calls are tag-conditioned below
  #checkov:skip=CKV_AWS_111:Scaling calls are limited by the cluster's owned tag, not by ARN (groups are named by EKS)
  statement {
    actions = [
      "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
      "autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities",
      "ec2:DescribeImages", "ec2:DescribeInstanceTypes", "ec2:DescribeLaunchTemplateVersions",
      "ec2:GetInstanceTypesFromInstanceRequirements", "eks:DescribeNodegroup",
    ]
    resources = ["*"]
  }
  statement {
    actions   = ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"]
    resources = ["*"]
    condition {
      # EKS tags every managed node group's Auto Scaling group k8s.io/cluster-autoscaler/<cluster> = owned.
      test     = "StringEquals"
      variable = "aws:ResourceTag/k8s.io/cluster-autoscaler/${local.cluster_name}"
      values   = ["owned"]
    }
  }
}
