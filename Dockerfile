# One image for both services; docker-compose.yml picks the entry point per service.
# Node 26, the Active LTS line (Node 20 reached its end of life in April 2026). The code runs on
# Node 20.19 and later (engines), which the tests use.

# Build: every dependency, the services and the CLI compiled to JavaScript (packages/cli/build.mjs).
FROM node:26-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages ./packages
COPY services ./services
COPY bench/package.json ./bench/package.json
RUN npm ci --no-audit --no-fund --ignore-scripts && node packages/cli/build.mjs

# Run: production dependencies and the compiled files; no TypeScript toolchain (tsx, esbuild).
FROM node:26-trixie-slim
WORKDIR /app
ENV NODE_ENV=production
# The services' old space, capped as `hookwire start` caps it (HEAP_ARGS in packages/cli/build.mjs):
# V8 then grows the heap by less, for a third less RSS. Set NODE_OPTIONS to change it.
ENV NODE_OPTIONS=--max-old-space-size=1024
# In a container the services listen on every interface (the host default is loopback only).
ENV HOOKWIRE_HOST=0.0.0.0
COPY package.json package-lock.json ./
COPY packages ./packages
COPY services ./services
COPY bench/package.json ./bench/package.json
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
  && rm -rf node_modules/tsx node_modules/esbuild node_modules/@esbuild node_modules/.bin/tsx node_modules/.bin/esbuild
COPY --from=build /app/services/ingest/dist ./services/ingest/dist
COPY --from=build /app/services/worker/dist ./services/worker/dist
COPY --from=build /app/packages/cli/dist ./packages/cli/dist
COPY integrations ./integrations
COPY examples ./examples
USER node
EXPOSE 8080 9464
CMD ["node", "services/ingest/dist/main.mjs"]
