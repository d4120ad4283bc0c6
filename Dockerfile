# Vigil runs TypeScript directly with Node 22's type stripping: no build step.
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
USER node
ENTRYPOINT ["node", "src/main.ts"]
CMD ["start"]
