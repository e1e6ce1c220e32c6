# envparity agent: the one-file bundle (agent/dist/envparity-agent.mjs) on node:20-bookworm-slim.
# Build from the repo root:  docker build -f docker/agent.Dockerfile -t envparity-agent .
# In a container the agent reports the container; to report the host, mount it and pass
# --host-root (docs/INSTALL.md: the sidecar, the Kubernetes DaemonSet).
FROM node:20-bookworm-slim AS build
WORKDIR /src
# Only what the agent's build needs (the workspace manifests keep `npm ci` in step with the lockfile).
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
COPY packages ./packages
COPY aggregator/package.json ./aggregator/
COPY test/package.json ./test/
COPY shared ./shared
COPY agent ./agent
# --ignore-scripts: the agent has no native module (better-sqlite3 is the aggregator's).
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npx tsc -b shared agent \
 && node agent/scripts/bundle.mjs

# The final stage is the bundle and Node: no node_modules, no npm run, no aggregator code, no build
# tools. Not distroless: /bin/sh records the agent's pid for the health check, and Node 20 is what
# the bundle is tested with; a single-executable binary would weigh as much as node itself.
FROM node:20-bookworm-slim
ARG VERSION=0.1.0
ARG SOURCE_URL=https://github.com/envparity/envparity
LABEL org.opencontainers.image.title="envparity-agent" \
      org.opencontainers.image.description="envparity agent: reports host facts to the envparity aggregator and verifies parity before a deploy" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /src/agent/dist/envparity-agent.mjs /opt/envparity/envparity-agent.mjs
# npm and corepack are not the agent's: nothing in this image installs packages.
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
 && mkdir -p /etc/envparity /var/lib/envparity \
 && chown 65532:65532 /var/lib/envparity && chmod 0700 /var/lib/envparity
ENV NODE_ENV=production ENVPARITY_STATE_DIR=/var/lib/envparity
# A numeric uid (no passwd entry needed) so that Kubernetes' runAsNonRoot can check it.
USER 65532:65532
VOLUME /var/lib/envparity
# The agent has no health endpoint: healthy means the process the entrypoint started is alive.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s CMD ["/bin/sh", "-c", "kill -0 \"$(cat /tmp/envparity-agent.pid)\""]
# The shell records its pid, then exec makes it the agent's (signals reach node directly).
ENTRYPOINT ["/bin/sh", "-c", "echo $$ > /tmp/envparity-agent.pid || true; exec node /opt/envparity/envparity-agent.mjs \"$@\"", "envparity-agent"]
CMD ["run", "--config", "/etc/envparity/agent.yaml"]
