output "environment" {
  description = "Environment this state belongs to."
  value       = var.environment
}

output "region" {
  description = "AWS region of every resource."
  value       = var.region
}

output "cluster_name" {
  description = "EKS cluster name."
  value       = aws_eks_cluster.this.name
}

output "cluster_endpoint" {
  description = "Kubernetes API endpoint."
  value       = aws_eks_cluster.this.endpoint
}

output "cluster_oidc_issuer_url" {
  description = "OIDC issuer of the cluster, trusted by the IRSA roles."
  value       = aws_eks_cluster.this.identity[0].oidc[0].issuer
}

output "configure_kubectl" {
  description = "Command that writes a kubeconfig entry for this cluster."
  value       = "aws eks update-kubeconfig --region ${var.region} --name ${aws_eks_cluster.this.name}"
}

output "vpc_id" {
  description = "VPC id."
  value       = aws_vpc.this.id
}

output "private_subnet_ids" {
  description = "Subnets of the worker nodes."
  value       = aws_subnet.private[*].id
}

output "database_subnet_ids" {
  description = "Subnets reserved for databases."
  value       = aws_subnet.database[*].id
}

output "nat_gateway_count" {
  description = "Number of NAT gateways (one per zone, or one shared)."
  value       = length(aws_nat_gateway.this)
}

output "load_balancer_security_group_id" {
  description = "Security group for the Ingress annotation alb.ingress.kubernetes.io/security-groups."
  value       = aws_security_group.load_balancers.id
}

output "irsa_role_arns" {
  description = "IRSA role ARNs by service account purpose; annotate the service accounts with eks.amazonaws.com/role-arn."
  value       = { for k, r in aws_iam_role.irsa : k => r.arn }
}

output "node_role_arn" {
  description = "IAM role of the worker nodes."
  value       = aws_iam_role.nodes.arn
}

output "backup_bucket_name" {
  description = "S3 bucket for backups and WAL archives."
  value       = aws_s3_bucket.backups.bucket
}

output "kms_key_arn" {
  description = "Customer-managed key encrypting secrets, logs, backups and RDS."
  value       = aws_kms_key.this.arn
}

output "rds_endpoint" {
  description = "RDS PostgreSQL endpoint (host:port), or null when PostgreSQL runs in the cluster."
  value       = var.enable_rds ? aws_db_instance.this[0].endpoint : null
}

output "rds_master_secret_arn" {
  description = "Secrets Manager ARN of the RDS master password, or null."
  value       = var.enable_rds ? one(aws_db_instance.this[0].master_user_secret[*].secret_arn) : null
}

output "pod_identity_role_arns" {
  description = "EKS Pod Identity roles of platform components by purpose (associations in platform.tf)."
  value       = { for k, r in aws_iam_role.pod_identity : k => r.arn }
}

output "next_steps" {
  description = "What to do after apply: the rest of docs/kubernetes.md, \"Bringing up a fresh account\"."
  value       = <<-EOT
    1. ${"aws eks update-kubeconfig --region ${var.region} --name ${aws_eks_cluster.this.name}"}
    2. Bootstrap Argo CD (chart and values of deploy/platform/base/argo-cd.yaml), then
       kubectl apply -f deploy/platform/base/appproject.yaml -f deploy/platform/overlays/${var.environment}/root-application.yaml
    3. Create the Secrets Manager entries hyperpage/${var.environment}/... (docs/kubernetes.md).
    4. kubectl apply -k deploy/k8s/overlays/${var.environment}   (or kubectl apply -k deploy/argocd/overlays/${var.environment})
    5. Backups go to s3://${aws_s3_bucket.backups.bucket} (role ${aws_iam_role.irsa["backups"].arn}).
    6. Check the rollout: kubectl -n ${var.app_namespace} rollout status deployment/hyperpage-web
  EOT
}
