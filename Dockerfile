# syntax=docker/dockerfile:1
# Worker and gateway images from one build: `--target worker` / `--target gateway`.
# Multi-stage: compile and bundle with dev dependencies, run with production ones only, as a non-root user.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY schemas schemas
COPY contracts contracts
COPY workflows workflows
COPY activities activities
COPY lib lib
COPY services services
RUN npx tsc -p tsconfig.build.json && npx tsx services/worker/bundle.ts dist/workflow-bundle.js

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY config ./config
USER node

FROM runtime AS worker
ENV SB_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js \
    SB_HEALTH_PORT=9464
EXPOSE 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+process.env.SB_HEALTH_PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/services/worker/main.js"]

FROM runtime AS gateway
ENV SB_GATEWAY_PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+process.env.SB_GATEWAY_PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/services/gateway/main.js"]
