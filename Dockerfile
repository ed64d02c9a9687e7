# One image for both services; docker-compose.yml picks the entry point per service.
# Node 26, the Active LTS line (Node 20 reached its end of life in April 2026). The code runs on
# Node 20.19 and later (engines), which the tests use.
FROM node:26-trixie-slim
WORKDIR /app
ENV NODE_ENV=production
# In a container the services listen on every interface (the host default is loopback only).
ENV HOOKWIRE_HOST=0.0.0.0
COPY package.json package-lock.json ./
COPY packages ./packages
COPY services ./services
COPY bench/package.json ./bench/package.json
RUN npm ci --omit=dev --no-audit --no-fund
COPY integrations ./integrations
COPY examples ./examples
USER node
EXPOSE 8080 9464
CMD ["node", "--import", "tsx/esm", "services/ingest/src/main.ts"]
