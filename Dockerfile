# syntax=docker/dockerfile:1
# The proxy as a self-hosted Node server (src/node). Build: docker build -t gemini-key-pool-proxy .
# Run:   docker run -d -p 8787:8787 -v gemini-proxy-data:/data \
#          -e API_KEYS="AIza...,AIza..." -e PROXY_API_KEY="a-long-random-token" gemini-key-pool-proxy

# Build stage: the lockfile's exact dependencies, then one bundle with all of them inside.
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# No install script is needed for the bundle (esbuild's binary arrives as its own
# package); skipping them keeps wrangler's and the test tools' downloads out of the build.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/build-node.ts scripts/
COPY src/ src/
RUN node scripts/build-node.ts

# Final stage: Node and the bundle, nothing else (no node_modules, no npm use at run time).
FROM node:24-alpine
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8787 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=build /src/dist/node/ ./
# The pool's SQLite database lives in /data: keep it on a volume so usage, marks and
# runtime keys survive a new container. Owned by the unprivileged user the server runs as.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8787
# /healthz answers without a token and without touching the key store.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8787) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM (docker stop) lets requests in flight finish, usage land and the database
# close within 28 s; give it more than Docker's default 10 s: docker run --stop-timeout 30.
STOPSIGNAL SIGTERM
CMD ["node", "--enable-source-maps", "server.mjs"]
