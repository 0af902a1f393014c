#### Environment ####

variable "environment" {
  description = "Deployment environment; picks names, sizes and production-only safeguards."
  type        = string

  validation {
    condition     = contains(["development", "staging", "production"], var.environment)
    error_message = "environment must be one of development, staging, production."
  }
}

variable "project" {
  description = "Project name used as the prefix of every resource name."
  type        = string
  default     = "hyperpage"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.project))
    error_message = "project must be 2-21 lower-case letters, digits or dashes, starting with a letter."
  }
}

variable "aws_account_id" {
  description = "AWS account that holds this environment. The kit names it in IRSA role ARNs and the backup bucket (deploy/k8s/overlays/<env>); planning with credentials of another account stops."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.aws_account_id))
    error_message = "aws_account_id must be the 12-digit AWS account id."
  }
}

variable "region" {
  description = "AWS region, e.g. us-east-1."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must look like us-east-1 or eu-west-1."
  }
}

variable "extra_tags" {
  description = "Tags added to every resource besides Project, Environment and ManagedBy."
  type        = map(string)
  default     = {}
}

#### Network ####

variable "vpc_cidr" {
  description = "CIDR block of the VPC."
  type        = string
  default     = "10.0.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 20
    error_message = "vpc_cidr must be a valid IPv4 CIDR of /20 or larger."
  }
}

variable "availability_zones" {
  description = "Exactly three availability zones; empty means <region>a, <region>b, <region>c."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.availability_zones) == 0 || length(var.availability_zones) == 3
    error_message = "availability_zones must be empty (derived from the region) or list exactly three zones."
  }
}

variable "public_subnet_cidrs" {
  description = "One public subnet per zone: load balancers and NAT gateways only."
  type        = list(string)
  default     = ["10.0.20.0/24", "10.0.21.0/24", "10.0.22.0/24"]

  validation {
    condition     = length(var.public_subnet_cidrs) == 3 && alltrue([for c in var.public_subnet_cidrs : can(cidrhost(c, 0))])
    error_message = "public_subnet_cidrs must hold three valid IPv4 CIDRs."
  }
}

variable "private_subnet_cidrs" {
  description = "One private subnet per zone: EKS nodes, pods and interface endpoints."
  type        = list(string)
  default     = ["10.0.10.0/24", "10.0.11.0/24", "10.0.12.0/24"]

  validation {
    condition     = length(var.private_subnet_cidrs) == 3 && alltrue([for c in var.private_subnet_cidrs : can(cidrhost(c, 0))])
    error_message = "private_subnet_cidrs must hold three valid IPv4 CIDRs."
  }
}

variable "database_subnet_cidrs" {
  description = "One database subnet per zone, without any route to the internet."
  type        = list(string)
  default     = ["10.0.100.0/24", "10.0.101.0/24", "10.0.102.0/24"]

  validation {
    condition     = length(var.database_subnet_cidrs) == 3 && alltrue([for c in var.database_subnet_cidrs : can(cidrhost(c, 0))])
    error_message = "database_subnet_cidrs must hold three valid IPv4 CIDRs."
  }
}

variable "single_nat_gateway" {
  description = "true: one NAT gateway shared by all zones (cheaper, one zone is a single point of failure); false: one per zone."
  type        = bool
  default     = false
}

variable "interface_endpoints" {
  description = "AWS services reached through interface VPC endpoints instead of NAT (each costs about $7/month per zone)."
  type        = list(string)
  default     = ["ecr.api", "ecr.dkr", "logs", "sts"]

  validation {
    condition     = alltrue([for s in var.interface_endpoints : can(regex("^[a-z0-9-]+(\\.[a-z0-9-]+)?$", s))])
    error_message = "interface_endpoints holds service names such as ecr.api or logs."
  }
}

variable "flow_log_retention_days" {
  description = "Days to keep VPC flow logs and EKS control-plane logs in CloudWatch."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 3653], var.flow_log_retention_days)
    error_message = "flow_log_retention_days must be a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

#### EKS ####

variable "kubernetes_version" {
  description = "EKS Kubernetes minor version."
  type        = string
  default     = "1.34"

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "kubernetes_version must look like 1.34."
  }
}

variable "cluster_public_access_cidrs" {
  description = "CIDRs allowed to reach the public Kubernetes API endpoint (operators, CI). Nodes use the private endpoint."
  type        = list(string)

  validation {
    condition = length(var.cluster_public_access_cidrs) > 0 && alltrue([
      for c in var.cluster_public_access_cidrs : can(cidrhost(c, 0)) && c != "0.0.0.0/0"
    ])
    error_message = "cluster_public_access_cidrs must list valid CIDRs and must not contain 0.0.0.0/0."
  }
}

variable "node_groups" {
  description = "Managed node groups by name. taints use the EKS effects NO_SCHEDULE, NO_EXECUTE, PREFER_NO_SCHEDULE."
  type = map(object({
    instance_types = list(string)
    capacity_type  = optional(string, "ON_DEMAND")
    min_size       = number
    max_size       = number
    desired_size   = number
    disk_size_gb   = optional(number, 50)
    labels         = optional(map(string), {})
    taints = optional(list(object({
      key    = string
      value  = string
      effect = string
    })), [])
  }))
  # The default is production's shape (envs/production.tfvars explains the sizes); every tfvars sets its own.
  default = {
    main = {
      instance_types = ["m6i.2xlarge", "m5.2xlarge", "m5a.2xlarge"]
      min_size       = 3
      max_size       = 16
      desired_size   = 3
      labels         = { workload = "general" }
    }
    critical = {
      instance_types = ["c5.2xlarge", "c5a.2xlarge"]
      min_size       = 3
      max_size       = 5
      desired_size   = 3
      labels         = { workload = "critical" }
      taints         = [{ key = "critical", value = "true", effect = "NO_SCHEDULE" }]
    }
    spot = {
      instance_types = ["c5.large", "c5a.large", "c6i.large", "m5.large"]
      capacity_type  = "SPOT"
      min_size       = 0
      max_size       = 5
      desired_size   = 0
      labels         = { workload = "spot" }
      taints         = [{ key = "spot", value = "true", effect = "NO_SCHEDULE" }]
    }
  }

  validation {
    condition = alltrue([
      for g in values(var.node_groups) :
      g.min_size >= 0 && g.min_size <= g.desired_size && g.desired_size <= g.max_size && g.max_size >= 1 && g.max_size <= 100
    ])
    error_message = "every node group needs 0 <= min_size <= desired_size <= max_size <= 100 and max_size >= 1."
  }

  validation {
    condition     = alltrue([for g in values(var.node_groups) : contains(["ON_DEMAND", "SPOT"], g.capacity_type)])
    error_message = "capacity_type must be ON_DEMAND or SPOT."
  }

  validation {
    condition = alltrue(flatten([
      for g in values(var.node_groups) : [for t in g.taints : contains(["NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"], t.effect)]
    ]))
    error_message = "taint effect must be NO_SCHEDULE, NO_EXECUTE or PREFER_NO_SCHEDULE."
  }

  validation {
    condition     = alltrue([for g in values(var.node_groups) : g.disk_size_gb >= 20 && g.disk_size_gb <= 1000])
    error_message = "disk_size_gb must be between 20 and 1000."
  }
}

variable "enable_eks_addons" {
  description = "Install the EKS add-ons (vpc-cni with network policy, coredns, kube-proxy, aws-ebs-csi-driver, snapshot-controller, metrics-server, eks-pod-identity-agent) and the Pod Identity associations. Only a local AWS emulator run turns this off."
  type        = bool
  default     = true
}

variable "create_autoscaling_service_linked_role" {
  description = "Create AWSServiceRoleForAutoScaling (named in the KMS key policy). false when the account already has it, e.g. a second environment in the same account."
  type        = bool
  default     = true
}

variable "manage_ebs_default_kms_key" {
  description = "Make the environment key the account's EBS default key (the gp3 StorageClass relies on it). Only a local AWS emulator run, which lacks the API, turns this off."
  type        = bool
  default     = true
}

#### Application and data ####

variable "app_namespace" {
  description = "Kubernetes namespace of the application (the overlay's `namespace:`); IRSA roles trust only its service accounts."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.app_namespace))
    error_message = "app_namespace must be a Kubernetes namespace name (RFC 1123 label)."
  }
}

variable "app_port" {
  description = "Container port of the web pods, which load balancers reach directly in IP target mode."
  type        = number
  default     = 3000

  validation {
    condition     = var.app_port > 0 && var.app_port < 65536
    error_message = "app_port must be a TCP port number."
  }
}

variable "backup_retention_days" {
  description = "Days after which backups and WAL archives in the backup bucket expire."
  type        = number
  default     = 30

  validation {
    condition     = var.backup_retention_days >= 7 && var.backup_retention_days <= 3650
    error_message = "backup_retention_days must be between 7 and 3650."
  }
}

variable "enable_rds" {
  description = "Create an RDS PostgreSQL 15 instance instead of running PostgreSQL in the cluster."
  type        = bool
  default     = false
}

variable "rds_instance_class" {
  description = "RDS instance class when enable_rds is true."
  type        = string
  default     = "db.t4g.medium"

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.rds_instance_class))
    error_message = "rds_instance_class must look like db.t4g.medium."
  }
}

variable "rds_allocated_storage_gb" {
  description = "Initial RDS storage; autoscaling may grow it to four times this."
  type        = number
  default     = 50

  validation {
    condition     = var.rds_allocated_storage_gb >= 20 && var.rds_allocated_storage_gb <= 16000
    error_message = "rds_allocated_storage_gb must be between 20 and 16000."
  }
}
