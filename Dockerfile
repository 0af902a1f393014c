# Hyperpage container image: the `hyperpage` command (serve, worker, db, backup) and the PostgreSQL 15
# client tools the backups need. Runs as uid/gid 1001 on a read-only root filesystem (writable /tmp only).

# ---- build: install the package and its pinned dependencies into a relocatable venv ----
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python3 -m venv /opt/hyperpage
# Dependencies first, from the constraints file alone, so a source change reuses this layer.
COPY requirements/constraints.txt requirements/constraints.txt
COPY pyproject.toml README.md ./
COPY src ./src
# Behind a TLS-inspecting proxy, `make image` passes the host's CA bundle as the build secret "pip-ca";
# a secret mount never lands in a layer.
RUN --mount=type=secret,id=pip-ca \
    if [ -s /run/secrets/pip-ca ]; then export PIP_CERT=/run/secrets/pip-ca; fi \
 && /opt/hyperpage/bin/pip install --no-compile -c requirements/constraints.txt . \
 && /opt/hyperpage/bin/python -m compileall -q /opt/hyperpage/lib

# ---- runtime ----
FROM python:3.11-slim-bookworm AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="hyperpage" \
      org.opencontainers.image.description="Self-hosted developer-data portal: code reviews, CI/CD, tickets and API rate limits" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="https://github.com/hyperpage/hyperpage"

# pg_dump/pg_restore 15 match the server major version (backups); no compiler, no shell tools added.
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client-15=15.* \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 1001 hyperpage \
 && useradd --uid 1001 --gid 1001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin hyperpage

COPY --from=build /opt/hyperpage /opt/hyperpage

# Bytecode is compiled at build time: nothing is written outside /tmp at run time.
ENV PATH=/opt/hyperpage/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    HYPERPAGE_HOST=0.0.0.0 \
    HYPERPAGE_PORT=3000
WORKDIR /tmp
USER 1001:1001
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('HYPERPAGE_PORT', '3000') + '/livez', timeout=4)"]
ENTRYPOINT ["hyperpage"]
CMD ["serve"]
