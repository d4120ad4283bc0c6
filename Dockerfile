# Vigil runs TypeScript directly with Node 22's type stripping: no build step.
FROM node:22-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY src ./src
COPY db ./db
COPY openapi.yaml ./
USER node
ENTRYPOINT ["node", "src/main.ts"]
CMD ["start"]
