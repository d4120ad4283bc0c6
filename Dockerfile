# Vigil runs TypeScript directly with Node 22's type stripping: no build step for the server.
# The dashboard (web/) is built with Vite, a development dependency, in a stage of its own, so the
# image carries the built files and only the production dependencies.
FROM node:22-bookworm-slim AS dashboard
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY src ./src
COPY web ./web
# Writes web/dist and its stamp (a hash of web/ and the lockfile): at start Vigil sees the build is
# fresh and does not try to rebuild (it could not: Vite is not in the image).
RUN npm run build:web

FROM node:22-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# fping for ICMP probes: Debian's package gives it cap_net_raw, so it pings as the unprivileged
# node user (the container must keep NET_RAW, which Docker grants by default; see docs/operations.md).
RUN apt-get update && apt-get install -y --no-install-recommends fping && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY src ./src
COPY db ./db
COPY openapi.yaml ./
COPY --from=dashboard /app/web ./web
USER node
ENTRYPOINT ["node", "src/main.ts"]
CMD ["start"]
