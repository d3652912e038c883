# shardgate container image.
#   docker build -t shardgate .
#   docker run -p 9292:9292 -v $PWD/shardgate.yml:/etc/shardgate/shardgate.yml:ro shardgate
# The image holds shardgate only; pushgateways run from their own image
# (see deploy/kubernetes/). `shardgate local` needs a pushgateway binary and
# is not meant to run in this image.

# --- build: compile TypeScript with the dev dependencies -------------------
FROM node:20-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json && cp -R src/ui/assets dist/src/ui/assets

# --- runtime: production dependencies and the compiled src/ only ----------
FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error && npm cache clean --force
# main.js reads ../../package.json for its version: keep the dist/src layout.
COPY --from=build /src/dist/src ./dist/src
# The base image's unprivileged user (uid 1000). Nothing is written at run
# time, so the root file system can be mounted read-only.
USER node
EXPOSE 9292
# node:20-slim has no curl or wget; Node's own fetch does the probe.
# /-/healthy: the process serves HTTP. (/-/ready additionally needs a healthy
# shard; orchestrators should use it for readiness, not for restarts.)
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9292/-/healthy').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/src/main.js"]
CMD ["--config.file=/etc/shardgate/shardgate.yml"]
