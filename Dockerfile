# kubecost-cid: the export CronJob image.
#
#   docker build -t kubecost-cid .
#   docker buildx build --platform linux/amd64,linux/arm64 -t <registry>/kubecost-cid:<tag> --push .
#
# NODE_IMAGE: any Node.js 24 image on Debian (glibc), slim by default.
# APP_SOURCE / TINI_SOURCE: where /app and /usr/bin/tini come from; the defaults build them here.
ARG NODE_IMAGE=node:24-bookworm-slim
ARG APP_SOURCE=app
ARG TINI_SOURCE=tini

# Compiling TypeScript gives the same JavaScript on every platform: done once, on the build machine.
FROM --platform=$BUILDPLATFORM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Production dependencies for the target platform: their native binaries (the Snappy binding) are
# chosen by npm from the platform it runs on.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force

FROM scratch AS app
COPY --from=deps /app/node_modules /app/node_modules
COPY --from=build /app/dist /app/dist
COPY --from=build /app/oclif.manifest.json /app/
COPY package.json /app/
COPY bin /app/bin

FROM ${NODE_IMAGE} AS tini
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*

FROM ${APP_SOURCE} AS app-files
FROM ${TINI_SOURCE} AS tini-files

FROM ${NODE_IMAGE}
# tini as PID 1: it forwards SIGTERM to the CLI (which stops cleanly) and reaps any child process.
COPY --from=tini-files /usr/bin/tini /usr/bin/tini
COPY --from=app-files /app /app
WORKDIR /app
ENV NODE_ENV=production
# The CLI writes only its work directory under TMPDIR and its output: the root file system can be
# read-only, with an emptyDir or tmpfs at /tmp.
ENV TMPDIR=/tmp
# 65532: the conventional non-root "nonroot" uid, matching the chart's runAsUser.
USER 65532:65532
# Run through bin/run.js's shebang, which sets the young generation and V8's helper threads (see the comment there).
ENTRYPOINT ["/usr/bin/tini", "--", "/app/bin/run.js"]
CMD ["export"]
