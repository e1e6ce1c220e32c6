# envparity agent (no native modules). Build from the repo root:  docker build -f docker/agent.Dockerfile -t envparity-agent .
# Inside a container the agent reports the container's own environment (its packages, env vars,
# config files, cgroup limits). To report the host instead, run it on the host (npm package or the
# systemd unit) — a container sees the host only partially, even with /proc and /etc mounted.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY . .
# --ignore-scripts: the agent needs no install script (better-sqlite3 belongs to the aggregator).
RUN npm ci --ignore-scripts --no-audit --no-fund && npx tsc -b shared agent \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf node_modules/better-sqlite3 node_modules/hono node_modules/@hono

FROM node:20-bookworm-slim
WORKDIR /opt/envparity
COPY --from=build /src/package.json /src/package-lock.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/packages/stubs ./packages/stubs
COPY --from=build /src/shared/package.json ./shared/
COPY --from=build /src/shared/dist ./shared/dist
COPY --from=build /src/agent/package.json ./agent/
COPY --from=build /src/agent/bin ./agent/bin
COPY --from=build /src/agent/dist ./agent/dist
RUN mkdir -p /var/lib/envparity && chown node:node /var/lib/envparity
ENV NODE_ENV=production ENVPARITY_STATE_DIR=/var/lib/envparity
USER node
VOLUME /var/lib/envparity
ENTRYPOINT ["node", "agent/bin/envparity-agent.js"]
CMD ["run", "--config", "/etc/envparity/agent.yaml"]
