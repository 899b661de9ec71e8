# syntax=docker/dockerfile:1
# trustgate: build with the full toolchain, run on a slim image as a non-root user.
# Node 24 is the current LTS line; package.json engines accepts ^20.19 || ^22 || ^24.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root config ./config
COPY --chown=root:root keys ./keys
# The image's built-in unprivileged user; the app files stay root-owned and read-only to it.
USER node
EXPOSE 5443
ENTRYPOINT ["node", "dist/main.js"]
CMD ["--config", "/etc/trustgate/trustgate.yaml"]
