#!/usr/bin/env bash
# Deploy Hyperpage to AWS EKS in the bring-up order of docs/kubernetes.md ("Bringing up a fresh account"):
# state backend, Terraform (with the EKS add-ons), kubeconfig, Argo CD bootstrap, the platform layer in sync
# waves, then the Kustomize overlay (or its Argo CD Application), rollout and health checks.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/deploy-terraform.sh [--auto-approve] [--dry-run] [--gitops] ENV [REGION]

  ENV      development|dev, staging|stage, production|prod
  REGION   AWS region (default: the region in deploy/terraform/envs/ENV.tfvars)

  --auto-approve  apply the plan without asking
  --dry-run       check tools, validate Terraform and render the overlay; touch neither AWS nor a cluster
  --gitops        hand the application over to Argo CD (deploy/argocd/overlays/ENV) instead of kubectl apply -k

environment: TF_PLUGIN_DIR (offline provider mirror for init), HEALTH_LOCAL_PORT (default 8080),
             ROLLOUT_TIMEOUT (default 600s), PLATFORM_TIMEOUT (default 1800s)
EOF
}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TF_DIR="$ROOT/deploy/terraform"
MIN_TERRAFORM="1.7.0"
MIN_KUBECTL="1.28.0"
APP_NAME="hyperpage-web"          # Deployment, Service and HPA in deploy/k8s/base
MIGRATE_JOB="hyperpage-migrate"
APP_PORT=3000
HEALTH_LOCAL_PORT="${HEALTH_LOCAL_PORT:-8080}"
ROLLOUT_TIMEOUT="${ROLLOUT_TIMEOUT:-600s}"
PLATFORM_TIMEOUT="${PLATFORM_TIMEOUT:-1800s}"

AUTO_APPROVE=false
DRY_RUN=false
GITOPS=false
ENVIRONMENT=""
REGION=""
WORK_DIR=""
PF_PID=""

log() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

cleanup() {
  if [ -n "$PF_PID" ]; then kill "$PF_PID" 2>/dev/null || true; fi
  if [ -n "$WORK_DIR" ]; then rm -rf "$WORK_DIR"; fi
}
trap cleanup EXIT

# Commands that reach AWS or the cluster go through here, so --dry-run lists them instead.
remote() {
  if $DRY_RUN; then
    printf '[dry-run] skipped: %s\n' "$*"
    return 0
  fi
  "$@"
}

parse_args() {
  local positional=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --auto-approve) AUTO_APPROVE=true ;;
      --dry-run) DRY_RUN=true ;;
      --gitops) GITOPS=true ;;
      -h | --help) usage; exit 0 ;;
      -*) usage >&2; die "unknown option: $1" ;;
      *) positional+=("$1") ;;
    esac
    shift
  done
  if [ ${#positional[@]} -lt 1 ] || [ ${#positional[@]} -gt 2 ]; then
    usage >&2
    die "expected ENV [REGION]"
  fi
  case "${positional[0]}" in
    dev | development) ENVIRONMENT=development ;;
    stage | staging) ENVIRONMENT=staging ;;
    prod | production) ENVIRONMENT=production ;;
    *) die "unknown environment '${positional[0]}' (development, staging or production)" ;;
  esac
  TFVARS="$TF_DIR/envs/$ENVIRONMENT.tfvars"
  BACKEND="$TF_DIR/envs/$ENVIRONMENT.backend.hcl"
  OVERLAY="$ROOT/deploy/k8s/overlays/$ENVIRONMENT"
  REGION="${positional[1]:-$(hcl_value "$TFVARS" region)}"
  REGION="${REGION:-us-east-1}"
  [[ "$REGION" =~ ^[a-z]{2}(-gov)?-[a-z]+-[0-9]$ ]] || die "'$REGION' does not look like an AWS region"
}

# Reads `key = "value"` from a flat HCL file (tfvars, backend config).
hcl_value() {
  sed -n "s/^[[:space:]]*$2[[:space:]]*=[[:space:]]*\"\([^\"]*\)\".*/\1/p" "$1" | head -n 1
}

version_at_least() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]; }

check_prerequisites() {
  log "checking prerequisites"
  local tool missing=()
  for tool in terraform kubectl helm aws curl python3; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  [ ${#missing[@]} -eq 0 ] || die "missing tools: ${missing[*]} (terraform >= $MIN_TERRAFORM, kubectl >= $MIN_KUBECTL, AWS CLI)"

  local tf_version kubectl_version
  tf_version="$(terraform version -json | python3 -c 'import json,sys; print(json.load(sys.stdin)["terraform_version"])')"
  version_at_least "$tf_version" "$MIN_TERRAFORM" || die "terraform $tf_version is too old; need >= $MIN_TERRAFORM"
  kubectl_version="$(kubectl version --client -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"].lstrip("v"))')"
  version_at_least "$kubectl_version" "$MIN_KUBECTL" || die "kubectl $kubectl_version is too old; need >= $MIN_KUBECTL"
  log "terraform $tf_version, kubectl $kubectl_version, $(aws --version 2>&1 | cut -d' ' -f1)"

  [ -f "$TFVARS" ] || die "no variables for $ENVIRONMENT: $TFVARS"
  [ -f "$BACKEND" ] || die "no backend config for $ENVIRONMENT: $BACKEND"
  if $GITOPS; then
    [ -f "$ROOT/deploy/argocd/overlays/$ENVIRONMENT/kustomization.yaml" ] || die "--gitops needs deploy/argocd/overlays/$ENVIRONMENT"
  else
    [ -f "$OVERLAY/kustomization.yaml" ] || die "no Kustomize overlay for $ENVIRONMENT: $OVERLAY"
  fi

  if ! $DRY_RUN; then
    local account
    account="$(aws sts get-caller-identity --query Account --output text 2>/dev/null)" \
      || die "AWS credentials are missing or expired (aws sts get-caller-identity failed); run aws configure or aws sso login"
    log "AWS account $account, region $REGION"
  fi
}

ensure_state_backend() {
  local bucket table
  bucket="$(hcl_value "$BACKEND" bucket)"
  table="$(hcl_value "$BACKEND" dynamodb_table)"
  if [ -z "$bucket" ] || [ -z "$table" ]; then die "$BACKEND must set bucket and dynamodb_table"; fi
  log "state backend: s3://$bucket, lock table $table"
  if $DRY_RUN; then
    remote aws s3api head-bucket --bucket "$bucket"
    remote aws dynamodb describe-table --table-name "$table"
    return 0
  fi

  if ! aws s3api head-bucket --bucket "$bucket" >/dev/null 2>&1; then
    log "creating state bucket $bucket"
    if [ "$REGION" = "us-east-1" ]; then
      aws s3api create-bucket --bucket "$bucket" --region "$REGION" >/dev/null
    else
      aws s3api create-bucket --bucket "$bucket" --region "$REGION" \
        --create-bucket-configuration "LocationConstraint=$REGION" >/dev/null
    fi
    aws s3api put-bucket-versioning --bucket "$bucket" --versioning-configuration Status=Enabled
    aws s3api put-bucket-encryption --bucket "$bucket" \
      --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms"}}]}'
    aws s3api put-public-access-block --bucket "$bucket" --public-access-block-configuration \
      BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
  fi
  if ! aws dynamodb describe-table --table-name "$table" --region "$REGION" >/dev/null 2>&1; then
    log "creating lock table $table"
    aws dynamodb create-table --table-name "$table" --region "$REGION" \
      --attribute-definitions AttributeName=LockID,AttributeType=S --key-schema AttributeName=LockID,KeyType=HASH \
      --billing-mode PAY_PER_REQUEST --sse-specification Enabled=true >/dev/null
    aws dynamodb wait table-exists --table-name "$table" --region "$REGION"
  fi
}

run_terraform() {
  local plugin_args=()
  [ -n "${TF_PLUGIN_DIR:-}" ] && plugin_args=("-plugin-dir=$TF_PLUGIN_DIR")
  local plan_file="$WORK_DIR/$ENVIRONMENT.tfplan"

  if $DRY_RUN; then
    # A private data dir keeps the real backend initialisation in deploy/terraform/.terraform untouched.
    export TF_DATA_DIR="$WORK_DIR/tf-data"
    log "terraform init (no backend) and validate"
    terraform -chdir="$TF_DIR" init -input=false -backend=false "${plugin_args[@]}" >/dev/null
    terraform -chdir="$TF_DIR" validate
    remote terraform plan -var-file="$TFVARS" -var "region=$REGION"
    return 0
  fi

  log "terraform init ($ENVIRONMENT state)"
  terraform -chdir="$TF_DIR" init -input=false -reconfigure "${plugin_args[@]}" \
    -backend-config="$BACKEND" -backend-config="region=$REGION" >/dev/null
  log "terraform plan"
  terraform -chdir="$TF_DIR" plan -input=false -var-file="$TFVARS" -var "region=$REGION" -out="$plan_file"

  if ! $AUTO_APPROVE; then
    local answer=""
    printf 'Apply this plan to %s in %s? Type yes to continue: ' "$ENVIRONMENT" "$REGION"
    read -r answer || true
    [ "$answer" = "yes" ] || die "not applied (answer was '${answer}'); nothing changed"
  fi
  log "terraform apply"
  terraform -chdir="$TF_DIR" apply -input=false "$plan_file"
}

configure_kubectl() {
  if $DRY_RUN; then
    remote aws eks update-kubeconfig --region "$REGION" --name "<cluster_name output>"
    return 0
  fi
  CLUSTER_NAME="$(terraform -chdir="$TF_DIR" output -raw cluster_name)"
  log "kubeconfig for $CLUSTER_NAME"
  aws eks update-kubeconfig --region "$REGION" --name "$CLUSTER_NAME"
}

# Steps 4-5: Argo CD from the chart version and values its own Application pins, then the root Application
# of deploy/platform/overlays/ENV, which installs the operators wave by wave.
deploy_platform() {
  local platform="$ROOT/deploy/platform" chart_version
  chart_version="$(sed -n 's/^[[:space:]]*targetRevision:[[:space:]]*\([0-9][0-9.]*\)$/\1/p' "$platform/base/argo-cd.yaml" | head -n 1)"
  [ -n "$chart_version" ] || die "no argo-cd chart version in $platform/base/argo-cd.yaml"
  [ -f "$platform/overlays/$ENVIRONMENT/root-application.yaml" ] || die "no platform layer for $ENVIRONMENT"
  log "Argo CD bootstrap: chart argo-cd $chart_version"
  remote helm upgrade --install argocd argo-cd --repo https://argoproj.github.io/argo-helm \
    --version "$chart_version" --namespace argocd --create-namespace \
    --values "$platform/base/argo-cd-values.yaml" --wait
  log "platform layer $ENVIRONMENT (Argo CD syncs it in waves)"
  remote kubectl apply -f "$platform/base/appproject.yaml" -f "$platform/overlays/$ENVIRONMENT/root-application.yaml"
  remote kubectl -n argocd wait application/platform --for=jsonpath='{.status.sync.status}'=Synced --timeout="$PLATFORM_TIMEOUT"
  remote kubectl -n argocd wait application/platform --for=jsonpath='{.status.health.status}'=Healthy --timeout="$PLATFORM_TIMEOUT"
}

deploy_application() {
  NAMESPACE="$(sed -n 's/^namespace:[[:space:]]*//p' "$OVERLAY/kustomization.yaml" | head -n 1)"
  [ -n "$NAMESPACE" ] || die "$OVERLAY/kustomization.yaml sets no namespace"
  # Rendering is local: a broken overlay stops here, before anything reaches the cluster.
  RENDERED="$WORK_DIR/rendered.yaml"
  kubectl kustomize "$OVERLAY" >"$RENDERED" || die "kubectl kustomize $OVERLAY failed"
  log "overlay $ENVIRONMENT renders $(grep -c '^kind:' "$RENDERED") objects into namespace $NAMESPACE"

  if $GITOPS; then
    local app="hyperpage-$ENVIRONMENT"
    log "handing over to Argo CD: application $app"
    remote kubectl apply -k "$ROOT/deploy/argocd/overlays/$ENVIRONMENT"
    # Same effect as `argocd app sync`, without needing the argocd CLI.
    remote kubectl -n argocd patch application "$app" --type merge \
      -p '{"operation":{"initiatedBy":{"username":"deploy-terraform.sh"},"sync":{}}}'
    remote kubectl -n argocd wait "application/$app" --for=jsonpath='{.status.sync.status}'=Synced --timeout="$ROLLOUT_TIMEOUT"
    # The sync operation (its migration hook included) succeeded; the rollout is checked next. Not the
    # application's health: the backup PVC binds only when the first backup pod runs (WaitForFirstConsumer,
    # 02:00), and Argo CD reports a Pending PVC, and so the application, as Progressing until then.
    remote kubectl -n argocd wait "application/$app" --for=jsonpath='{.status.operationState.phase}'=Succeeded \
      --timeout="$ROLLOUT_TIMEOUT"
  else
    # A Job's pod template is immutable: applying a new release over the finished migration Job (kept for
    # ttlSecondsAfterFinished) fails. Remove it first, as Argo CD's BeforeHookCreation policy does.
    remote kubectl -n "$NAMESPACE" delete job "$MIGRATE_JOB" --ignore-not-found --wait=true
    log "applying overlay $ENVIRONMENT"
    remote kubectl apply -k "$OVERLAY"
  fi
}

wait_for_rollout() {
  log "waiting for the migration job and the rollout"
  remote kubectl -n "$NAMESPACE" wait "job/$MIGRATE_JOB" --for=condition=complete --timeout="$ROLLOUT_TIMEOUT" \
    || die "migration job $MIGRATE_JOB did not complete; see: kubectl -n $NAMESPACE logs job/$MIGRATE_JOB"
  remote kubectl -n "$NAMESPACE" rollout status "deployment/$APP_NAME" --timeout="$ROLLOUT_TIMEOUT" \
    || die "deployment $APP_NAME did not roll out; see: kubectl -n $NAMESPACE describe deployment/$APP_NAME"
}

validate_deployment() {
  log "validating"
  if grep -q '^kind: HorizontalPodAutoscaler' "$RENDERED"; then
    remote kubectl -n "$NAMESPACE" get "hpa/$APP_NAME" >/dev/null || die "HPA $APP_NAME is missing"
    log "HPA $APP_NAME present"
  else
    log "overlay $ENVIRONMENT has no HPA (fixed replica count)"
  fi
  if $DRY_RUN; then
    remote kubectl -n "$NAMESPACE" port-forward "svc/$APP_NAME" "$HEALTH_LOCAL_PORT:$APP_PORT"
    remote curl "http://127.0.0.1:$HEALTH_LOCAL_PORT/api/health"
    return 0
  fi

  kubectl -n "$NAMESPACE" port-forward "svc/$APP_NAME" "$HEALTH_LOCAL_PORT:$APP_PORT" >"$WORK_DIR/port-forward.log" 2>&1 &
  PF_PID=$!
  local body="$WORK_DIR/health.json" code="" attempt
  # Curl only once kubectl says it forwards: otherwise another process on the local port could answer.
  for attempt in $(seq 1 30); do
    grep -q '^Forwarding from' "$WORK_DIR/port-forward.log" 2>/dev/null && break
    kill -0 "$PF_PID" 2>/dev/null || die "port-forward to svc/$APP_NAME exited: $(cat "$WORK_DIR/port-forward.log")"
    sleep 1
  done
  grep -q '^Forwarding from' "$WORK_DIR/port-forward.log" || die "port-forward to svc/$APP_NAME did not start in 30 s"
  for attempt in $(seq 1 30); do
    code="$(curl -sS -o "$body" -w '%{http_code}' --max-time 5 "http://127.0.0.1:$HEALTH_LOCAL_PORT/api/health" 2>/dev/null)" || code=""
    [ -n "$code" ] && [ "$code" != "000" ] && break
    kill -0 "$PF_PID" 2>/dev/null || die "port-forward to svc/$APP_NAME exited: $(cat "$WORK_DIR/port-forward.log")"
    sleep 1
  done
  kill "$PF_PID" 2>/dev/null || true
  PF_PID=""
  [ "$code" = "200" ] || die "/api/health answered ${code:-nothing} after $attempt attempts: $(head -c 300 "$body" 2>/dev/null)"
  local database
  database="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("database", {}).get("status", "unknown"))' "$body")"
  [ "$database" = "up" ] || die "the application cannot reach PostgreSQL (database status: $database)"
  log "/api/health: healthy, PostgreSQL up"
}

print_summary() {
  log "summary"
  if $DRY_RUN; then
    echo "dry run for $ENVIRONMENT in $REGION: tools present, Terraform valid, overlay renders; nothing was changed"
    return 0
  fi
  terraform -chdir="$TF_DIR" output -no-color cluster_name
  terraform -chdir="$TF_DIR" output -no-color cluster_endpoint
  terraform -chdir="$TF_DIR" output -no-color backup_bucket_name
  kubectl -n "$NAMESPACE" get deployment,hpa,job -o wide || true
  echo
  echo "next steps:"
  terraform -chdir="$TF_DIR" output -raw next_steps
}

main() {
  parse_args "$@"
  WORK_DIR="$(mktemp -d)"
  local mode=""
  if $DRY_RUN; then mode=" (dry run)"; fi
  log "deploying Hyperpage: environment $ENVIRONMENT, region $REGION$mode"
  check_prerequisites
  ensure_state_backend
  run_terraform
  configure_kubectl
  deploy_platform
  deploy_application
  wait_for_rollout
  validate_deployment
  print_summary
}

main "$@"
