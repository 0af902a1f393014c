#### Cluster ####

resource "aws_cloudwatch_log_group" "eks" {
  #checkov:skip=CKV_AWS_338:Retention is per environment (flow_log_retention_days, 90 days in production); a year of audit logs is a cost choice
  # EKS writes to exactly this name; creating it first sets retention and encryption before the first line.
  name              = "/aws/eks/${local.cluster_name}/cluster"
  retention_in_days = var.flow_log_retention_days
  kms_key_id        = aws_kms_key.this.arn
}

resource "aws_eks_cluster" "this" {
  #checkov:skip=CKV_AWS_39:Operators and CI reach the API from listed CIDRs; nodes use the private endpoint
  #checkov:skip=CKV_AWS_38:public_access_cidrs comes from a variable whose validation refuses 0.0.0.0/0 (checkov cannot resolve it)
  name     = local.cluster_name
  version  = var.kubernetes_version
  role_arn = aws_iam_role.cluster.arn

  enabled_cluster_log_types = ["api", "audit", "authenticator", "controllerManager", "scheduler"]

  vpc_config {
    subnet_ids              = aws_subnet.private[*].id
    security_group_ids      = [aws_security_group.cluster.id]
    endpoint_private_access = true
    # Public access stays on for operators and CI, restricted to known CIDRs; nodes use the private endpoint.
    endpoint_public_access = true
    public_access_cidrs    = var.cluster_public_access_cidrs
  }

  encryption_config {
    resources = ["secrets"]
    provider {
      key_arn = aws_kms_key.this.arn
    }
  }

  access_config {
    authentication_mode                         = "API"
    bootstrap_cluster_creator_admin_permissions = true
  }

  depends_on = [
    aws_iam_role_policy_attachment.cluster,
    aws_cloudwatch_log_group.eks,
  ]
}

#### Managed node groups ####

# A launch template per group puts nodes in our node security group, enforces IMDSv2 (pods cannot borrow
# the node role through the metadata service) and encrypts the root volume.
resource "aws_launch_template" "nodes" {
  for_each = var.node_groups

  name_prefix            = "${local.name}-${each.key}-"
  description            = "EKS managed node group ${each.key}"
  vpc_security_group_ids = [aws_security_group.nodes.id]
  update_default_version = true

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size           = each.value.disk_size_gb
      volume_type           = "gp3"
      encrypted             = true
      kms_key_id            = aws_kms_key.this.arn
      delete_on_termination = true
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags          = merge(local.common_tags, { Name = "${local.name}-${each.key}" })
  }
}

resource "aws_eks_node_group" "this" {
  for_each = var.node_groups

  cluster_name    = aws_eks_cluster.this.name
  node_group_name = each.key
  node_role_arn   = aws_iam_role.nodes.arn
  subnet_ids      = aws_subnet.private[*].id
  instance_types  = each.value.instance_types
  capacity_type   = each.value.capacity_type
  labels          = merge(each.value.labels, { "hyperpage.io/node-group" = each.key })

  launch_template {
    id      = aws_launch_template.nodes[each.key].id
    version = aws_launch_template.nodes[each.key].latest_version
  }

  scaling_config {
    min_size     = each.value.min_size
    max_size     = each.value.max_size
    desired_size = each.value.desired_size
  }

  update_config {
    max_unavailable_percentage = 33
  }

  dynamic "taint" {
    for_each = each.value.taints
    content {
      key    = taint.value.key
      value  = taint.value.value
      effect = taint.value.effect
    }
  }

  lifecycle {
    # The cluster autoscaler owns desired_size once the group exists; re-applying must not reset it.
    ignore_changes = [scaling_config[0].desired_size]
  }

  depends_on = [aws_iam_role_policy_attachment.nodes]
}

#### Add-ons ####

# The cluster-side half of the platform layer (docs/kubernetes.md, "Bringing up a fresh account", step 2);
# the Helm-installed operators follow through Argo CD (deploy/platform). No addon_version: EKS installs the
# add-on's default version for the cluster's Kubernetes version (EKS User Guide, "Create an Amazon EKS
# add-on": "If you don't specify a version, the default version is used"), so kubernetes_version pins them.
locals {
  eks_addons = var.enable_eks_addons ? {
    # Network policies are enforced only with the VPC CNI's network policy agent enabled (EKS User Guide,
    # "Limit pod traffic with Kubernetes network policies": configuration value enableNetworkPolicy "true").
    vpc-cni    = { role = null, configuration = jsonencode({ enableNetworkPolicy = "true" }) }
    kube-proxy = { role = null, configuration = null }
    coredns    = { role = null, configuration = null }
    # Volumes for PVCs (StorageClass gp3); its IRSA role may use the environment key (platform.tf).
    aws-ebs-csi-driver = { role = aws_iam_role.irsa["ebs-csi-driver"].arn, configuration = null }
    # VolumeSnapshot CRDs and controller (EKS User Guide, "Enable snapshot functionality for CSI volumes").
    snapshot-controller = { role = null, configuration = null }
    # Resource metrics API for the HPA's CPU and memory targets (EKS community add-on "metrics-server").
    metrics-server = { role = null, configuration = null }
    # Credentials for the Pod Identity associations in platform.tf (cluster autoscaler, External Secrets).
    eks-pod-identity-agent = { role = null, configuration = null }
  } : {}
}

resource "aws_eks_addon" "this" {
  for_each = local.eks_addons

  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = each.key
  service_account_role_arn    = each.value.role
  configuration_values        = each.value.configuration
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "PRESERVE"

  # coredns, metrics-server, snapshot-controller and the EBS CSI controller are Deployments: they need nodes.
  depends_on = [aws_eks_node_group.this]
}
