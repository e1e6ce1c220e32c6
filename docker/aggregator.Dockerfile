# envparity aggregator. Build from the repo root:  docker build -f docker/aggregator.Dockerfile -t envparity-aggregator .
FROM node:20-bookworm-slim AS build
WORKDIR /src
# better-sqlite3 builds from source when no prebuilt binary can be fetched.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY . .
RUN npm ci --no-audit --no-fund && npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ARG VERSION=0.1.0
ARG SOURCE_URL=https://github.com/envparity/envparity
LABEL org.opencontainers.image.title="envparity-aggregator" \
      org.opencontainers.image.description="envparity aggregator: agent ingest, fact store, drift engine, HTTP API and dashboard" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
WORKDIR /opt/envparity
COPY --from=build /src/package.json /src/package-lock.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/packages/stubs ./packages/stubs
COPY --from=build /src/shared/package.json ./shared/
COPY --from=build /src/shared/dist ./shared/dist
COPY --from=build /src/aggregator/package.json ./aggregator/
COPY --from=build /src/aggregator/bin ./aggregator/bin
COPY --from=build /src/aggregator/dist ./aggregator/dist
# The PostgreSQL bridge's worker (plain CommonJS, loaded by path at run time).
COPY --from=build /src/aggregator/lib ./aggregator/lib
RUN mkdir -p /var/lib/envparity-aggregator && chown 1000:1000 /var/lib/envparity-aggregator
ENV NODE_ENV=production
# uid 1000 is the image's `node` user; numeric so that Kubernetes' runAsNonRoot can check it.
USER 1000:1000
VOLUME /var/lib/envparity-aggregator
EXPOSE 7300
# Plain HTTP only: an aggregator serving TLS (--tls-cert) is checked by its orchestrator's HTTPS probe instead.
HEALTHCHECK --interval=30s --timeout=3s CMD ["node", "-e", "fetch('http://127.0.0.1:7300/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "aggregator/bin/envparity-aggregator.js"]
CMD ["serve", "--host", "0.0.0.0", "--port", "7300", "--data", "/var/lib/envparity-aggregator"]
