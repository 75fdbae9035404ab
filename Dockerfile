# The hub as a container: `docker compose up` runs it with Redis, Prometheus and Grafana.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --no-audit --no-fund
COPY src ./src
COPY test ./test
COPY bench ./bench
RUN npx tsc -p tsconfig.json && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json routes.yaml ./
COPY spec ./spec
COPY partners ./partners
USER node
EXPOSE 8080 9464
ENTRYPOINT ["node", "dist/src/main.js"]
# plain HTTP off loopback must be named (AID.02 6 requires two-way TLS): behind a TLS terminator,
# or give --tls-listen with the hub's certificate and the partners' CA instead
CMD ["start", "--insecure-http", "0.0.0.0:8080", "--admin-listen", "0.0.0.0:9464"]
