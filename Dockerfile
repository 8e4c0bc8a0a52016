# kubecost-cid: the export CronJob image.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:24-slim
# tini as PID 1: it forwards SIGTERM to the CLI (which stops cleanly) and reaps any child process.
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/oclif.manifest.json ./
COPY package.json ./
COPY bin ./bin
USER node
# Run through bin/run.js's shebang, which caps the young generation (see the comment there).
ENTRYPOINT ["/usr/bin/tini", "--", "/app/bin/run.js"]
CMD ["export"]
