# The hub as a container image: Node 24 LTS, the compiled hub with its production dependencies only
# (no tests, no benchmarks), run as the unprivileged user `node`. `docker compose up` runs a whole
# demo (docker-compose.yml); Kubernetes: deploy/kubernetes.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --no-audit --no-fund
COPY src ./src
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json routes.yaml ./
COPY spec ./spec
COPY partners ./partners
COPY conformance ./conformance
USER node
EXPOSE 8080 9464
# the admin listener answers on loopback by default (--admin-listen): the check runs inside
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/src/main.js"]
# `start` refuses to run without a configuration (--config DIR or $AID_GATEWAY_CONFIG, mounted from
# a ConfigMap or volume): the example partners copied in for the demo have published keys.
# plain HTTP off loopback must be named (AID.02 6 requires two-way TLS): behind a TLS terminator
# (with --trusted-proxies for the client certificates it forwards), or give --tls-listen with the
# hub's certificate and the partners' CA instead. The admin listener stays on loopback; publish it
# with --admin-listen 0.0.0.0:9464 and --admin-user (its password in a secret file).
CMD ["start", "--insecure-http", "0.0.0.0:8080"]
