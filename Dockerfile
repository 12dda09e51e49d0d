# The operator image: `docker build -t ghcr.io/weft-mesh/weft:0.1.0 .` (manifests/ names this tag).
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev

FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Non-root, and the root filesystem is mounted read-only by the Deployment.
USER 65532:65532
ENTRYPOINT ["node", "dist/main.js"]
CMD ["operator"]
