# syntax=docker/dockerfile:1
#
# One image recipe for every platform service (services/<name>):
#
#   docker build --build-arg SERVICE=monitor -t mlops/monitor .
#   docker run --rm -e KAFKA_BROKERS=... -e DATABASE_URL=... -e CLICKHOUSE_URL=... mlops/monitor
#
# docker-compose.yml builds the six services (and the one-shot `topics` job) from this file.
#
# Stages
#   manifests  root package.json + package-lock.json + every workspace package.json, nothing else
#   deps       full `npm ci` (dev deps included: typescript, @types/*); cached until a manifest changes
#   build      `tsc -b services/$SERVICE`, which also builds the libs/* it references
#   prod-deps  production dependencies of that one workspace only
#   runtime    node:20-bookworm-slim + prod-deps + compiled JavaScript; non-root; this is the image
#
# The embedded ClickHouse engine (chdb) and image size
#   libs/storage depends on `chdb`, whose native engine ships in the optional dependency
#   @chdb/lib-linux-x64-gnu (540 MB). Images never need it: the services that own ClickHouse tables
#   (feature-store, monitor) get CLICKHOUSE_URL (docker-compose.yml sets it), and libs/storage loads
#   `chdb/connection` lazily, only when CLICKHOUSE_URL is unset. So both installs below run with
#   --omit=optional: the engine is never downloaded, and the 1.5 MB `chdb` JS package that remains is
#   never loaded. (tsc only needs chdb's type declarations, which are in that JS package.)
#   Consequence: feature-store/monitor started WITHOUT CLICKHOUSE_URL stop at start-up with
#   "ChdbPlatformUnsupportedError: chdb: no native binding ..." - set CLICKHOUSE_URL.
#   The other optional packages left out are pg-cloudflare (Cloudflare Workers only) and
#   @pkgjs/parseargs (a fallback for Node < 18.3), plus the native bindings of nx (a dev tool).
#
# ONNX Runtime: onnxruntime-node carries its CPU binaries in the package; ONNXRUNTIME_NODE_INSTALL=skip
# (and --ignore-scripts) keep its install script from downloading GPU binaries; prod-deps keeps only the
# binary of the image's own platform.

ARG NODE_IMAGE=node:20-bookworm-slim
# Which service to build: a directory name under services/ (ingestion, feature-store, trainer, registry,
# deployer, monitor). Re-declared in each stage that uses it.
ARG SERVICE

# ---------------------------------------------------------------------------------------------------------
FROM scratch AS manifests
# Every workspace listed by the root package.json ("libs/*", "services/*", "infra", "bench"): npm ci
# refuses to run when the lockfile and the workspace manifests disagree. infra/test/compose.test.ts
# checks that this list matches the workspaces on disk.
COPY package.json package-lock.json .npmrc /app/
COPY libs/artifacts/package.json /app/libs/artifacts/
COPY libs/auth/package.json /app/libs/auth/
COPY libs/config/package.json /app/libs/config/
COPY libs/contracts/package.json /app/libs/contracts/
COPY libs/core/package.json /app/libs/core/
COPY libs/demo-data/package.json /app/libs/demo-data/
COPY libs/http/package.json /app/libs/http/
COPY libs/messaging/package.json /app/libs/messaging/
COPY libs/ml/package.json /app/libs/ml/
COPY libs/observability/package.json /app/libs/observability/
COPY libs/platform/package.json /app/libs/platform/
COPY libs/storage/package.json /app/libs/storage/
COPY libs/testing/package.json /app/libs/testing/
COPY services/ingestion/package.json /app/services/ingestion/
COPY services/feature-store/package.json /app/services/feature-store/
COPY services/trainer/package.json /app/services/trainer/
COPY services/registry/package.json /app/services/registry/
COPY services/deployer/package.json /app/services/deployer/
COPY services/monitor/package.json /app/services/monitor/
COPY infra/package.json /app/infra/
COPY bench/package.json /app/bench/

# ---------------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    npm_config_update_notifier=false
COPY --from=manifests /app/ ./
# --ignore-scripts: building needs no install script (chdb's is empty, onnxruntime-node's would only fetch
# GPU binaries), and nx's postinstall (nx is a dev tool the build does not use) spins at 100% CPU without
# its optional native binding instead of exiting.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=optional --ignore-scripts --no-audit --no-fund

# ---------------------------------------------------------------------------------------------------------
FROM deps AS build
ARG SERVICE
RUN test -n "${SERVICE}" || { echo 'docker build needs --build-arg SERVICE=<a directory of services/>' >&2; exit 1; }
COPY tsconfig.base.json ./
COPY libs/ libs/
COPY services/${SERVICE}/ services/${SERVICE}/
COPY schemas/ schemas/
COPY infra/ infra/
RUN test -f "services/${SERVICE}/tsconfig.json" || { echo "unknown service '${SERVICE}': no services/${SERVICE}/tsconfig.json" >&2; exit 1; } \
 && npx tsc -b "services/${SERVICE}"
# Gather what the runtime needs into /out: compiled libs and service (no tests, no tsbuildinfo), the
# topic provisioning script run by the compose `topics` job, the health probe, the event schemas.
RUN set -eu; \
    mkdir -p /out/libs "/out/services/${SERVICE}" /out/infra/docker; \
    for dir in libs/*/; do \
      lib="${dir%/}"; \
      if [ -d "$lib/dist" ]; then mkdir -p "/out/$lib" && cp -R "$lib/dist" "/out/$lib/"; fi; \
    done; \
    cp -R "services/${SERVICE}/dist" "/out/services/${SERVICE}/"; \
    find /out -depth \( -path '*/dist/test' -o -name '*.tsbuildinfo' \) -exec rm -rf {} +; \
    cp infra/*.mjs /out/infra/; \
    cp infra/docker/healthcheck.cjs /out/infra/docker/; \
    cp -R schemas /out/schemas

# ---------------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS prod-deps
ARG SERVICE
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    npm_config_update_notifier=false
COPY --from=manifests /app/ ./
# Only the production dependencies of @mlops/$SERVICE (workspace libs are linked, not copied: their
# compiled dist comes from the build stage). --ignore-scripts as in deps.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
      --workspace "@mlops/${SERVICE}" --include-workspace-root=false
# onnxruntime-node (deployer) ships its binding for every OS and CPU (~290 MB); keep only this platform's
# (bin/napi-v*/<platform>/<arch>, the path it loads), which saves ~240 MB.
RUN set -eu; \
    ort=node_modules/onnxruntime-node/bin; \
    if [ -d "$ort" ]; then \
      keep="$(node -p 'process.platform + "/" + process.arch')"; \
      for dir in "$ort"/napi-v*/*/*/; do \
        case "${dir%/}" in */"$keep") ;; *) rm -rf "$dir" ;; esac; \
      done; \
      find "$ort" -depth -type d -empty -delete; \
    fi

# ---------------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ARG SERVICE
LABEL org.opencontainers.image.title="mlops-${SERVICE}" \
      org.opencontainers.image.description="MLOps platform service ${SERVICE}" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    HTTP_HOST=0.0.0.0 \
    SERVICE=${SERVICE} \
    ONNXRUNTIME_NODE_INSTALL=skip \
    KAFKAJS_NO_PARTITIONER_WARNING=1
WORKDIR /app
# Manifests + production node_modules (with the @mlops/* workspace links), then compiled code.
COPY --from=prod-deps /app/ ./
COPY --from=build /out/ ./
# The only writable place: relative defaults such as .data/... (local artifact store) resolve here.
RUN mkdir -p /app/.data/artifacts && chown -R node:node /app/.data
# The unprivileged user of the official node image (uid 1000).
USER node
# HTTP_PORT defaults to the service's own port (3001..3006), see services/<name>/src/config.ts.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "infra/docker/healthcheck.cjs", "live"]
# A shell expands SERVICE at run time (CMD cannot take a build ARG); `exec` then replaces the shell, so
# node is the process that receives SIGTERM (compose also sets init: true).
CMD ["/bin/sh", "-c", "exec node services/${SERVICE}/dist/src/main.js"]
