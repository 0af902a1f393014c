#!/usr/bin/env bash
# Build the container image from the Dockerfile and run `hyperpage --version` in it.
# Uses docker or podman when present, otherwise buildah (chroot isolation). Without registry access the
# Dockerfile's base image is made locally with debootstrap (Debian bookworm, the base image's release)
# and tagged with the FROM name, so the build itself never pulls.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -n1)
image=${IMAGE:-hyperpage:${version}}
base=$(awk '/^FROM /{print $2; exit}' Dockerfile)
revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
build_args=(--build-arg "VERSION=${version}" --build-arg "REVISION=${revision}")
# The CA bundle pip trusts here (a TLS-inspecting proxy may sign PyPI's certificate) goes in as a secret.
ca_bundle=${PIP_CERT:-${SSL_CERT_FILE:-}}
if [ -n "$ca_bundle" ] && [ -s "$ca_bundle" ]; then
  build_args+=(--secret "id=pip-ca,src=${ca_bundle}")
fi

apt_mirror() {
  # The machine's own Debian mirror, so the base comes from where apt already installs packages.
  local files=() file
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
    [ -f "$file" ] && files+=("$file")
  done
  awk '$1 ~ /^(URIs:|deb)$/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:\/\/.*\/debian$/) { print $i; exit } }' \
    "${files[@]}" 2>/dev/null || true
}

make_base_with_debootstrap() {
  command -v debootstrap >/dev/null || { echo "error: $base is not available locally and debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
  local rootfs ctr mirror
  mirror=$(apt_mirror)
  rootfs=$(mktemp -d)
  trap 'rm -rf "$rootfs"' RETURN
  echo "making the base image $base with debootstrap (bookworm from ${mirror})"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$rootfs" "$mirror" >/dev/null
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  ctr=$(buildah from scratch)
  buildah copy "$ctr" "$rootfs" / >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd python3 "$ctr"
  buildah commit --quiet "$ctr" "$base" >/dev/null
  buildah rm "$ctr" >/dev/null
}

# A docker or podman CLI is only used when it can reach a working engine.
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  docker build "${build_args[@]}" -t "$image" .
  docker run --rm "$image" --version
  docker run --rm --entrypoint pg_dump "$image" --version
elif command -v podman >/dev/null 2>&1 && podman info >/dev/null 2>&1; then
  podman build "${build_args[@]}" -t "$image" .
  podman run --rm "$image" --version
  podman run --rm --entrypoint pg_dump "$image" --version
elif command -v buildah >/dev/null 2>&1; then
  if ! buildah inspect --type image "$base" >/dev/null 2>&1; then
    buildah pull --quiet "$base" >/dev/null 2>&1 || make_base_with_debootstrap
  fi
  # The default isolation needs cgroup access that containers and CI runners often lack.
  # Docker format: the OCI image config has no HEALTHCHECK field.
  buildah bud --isolation chroot --pull=never --layers --format docker "${build_args[@]}" -t "$image" .
  ctr=$(buildah from --pull=never "$image")
  trap 'buildah rm "$ctr" >/dev/null' EXIT
  buildah run --isolation chroot "$ctr" -- hyperpage --version
  buildah run --isolation chroot "$ctr" -- pg_dump --version
else
  echo "error: no container builder found (docker, podman or buildah)." >&2
  echo "       On Debian: apt-get install -y --no-install-recommends buildah debootstrap crun" >&2
  exit 1
fi
