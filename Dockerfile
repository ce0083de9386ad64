# syntax=docker/dockerfile:1
# The Chorus gateway image: one stateless node of the chat cluster (see docker-compose.yml and deploy/k8s/).
#
#   docker build -t chorus-gateway .
#   docker run --rm -p 3000:3000 chorus-gateway                                    one node, in memory
#   docker run --rm -p 3000:3000 -e REDIS_URL=redis://redis:6379 chorus-gateway    a cluster member
#
# Stages: `manifests` gathers the package.json files; `build` installs every dependency and bundles the page and
# the gateway; `deps` installs only the production dependencies; the runtime stage gets those and the two dist/
# folders: no sources, no compiler, no dev dependencies.
# test/deploy/ checks this file against the compose file, the Kubernetes manifests and the gateway's config.

# A current Node LTS: Node 20 reached end of life. The code itself needs Node >= 20.19 (package.json "engines").
# Change it here for all stages.
ARG NODE_IMAGE=node:24-bookworm-slim

# Every workspace's package.json, which `npm ci` needs to match the lockfile, and nothing else: the install layers
# below are reused until a manifest changes, and a new workspace is picked up without editing this file.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
COPY package.json package-lock.json ./
COPY apps/ apps/
COPY packages/ packages/
RUN find apps packages -type f ! -name package.json -delete && find apps packages -depth -type d -empty -delete

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY --from=manifests /app ./
# No package here needs an install script (esbuild finds its binary through its optional platform package).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY apps/ apps/
COPY packages/ packages/
# The page into apps/web/dist, the gateway into apps/gateway/dist/main.mjs (workspace packages inlined).
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY --from=manifests /app ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    LOG_FORMAT=json
WORKDIR /app
# Everything stays owned by root and read-only to the process; it writes nothing but logs to stdout, so the
# container also runs with a read-only root filesystem (deploy/k8s/deployment.yaml).
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/package.json ./package.json
COPY --from=build /app/apps/gateway/package.json ./apps/gateway/package.json
COPY --from=build /app/apps/gateway/dist ./apps/gateway/dist
COPY --from=build /app/apps/web/dist ./apps/web/dist
# The image's `node` user, by number so that Kubernetes' runAsNonRoot can verify it is not root.
USER 1000:1000
EXPOSE 3000
# Liveness only (the process answers HTTP); readiness is the load balancer's business (/readyz). Slim images
# have no curl, so Node's own fetch does the request.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM starts the graceful drain: readiness turns 503, clients move off in batches, exit within
# SHUTDOWN_TIMEOUT_MS. Node is PID 1 and installs its own SIGTERM handler, so no init process is needed.
STOPSIGNAL SIGTERM
CMD ["node", "apps/gateway/dist/main.mjs"]
