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
# The security console's source: `npm run build` bundles it into dist/admin-ui/ (docs/console.md).
COPY console ./console
# Compile, then drop the dev dependencies: only production dependencies reach the final image.
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
# Read-only friendly: trustgate writes nothing to disk. TMPDIR points at /tmp, which with a
# read-only root filesystem should be a tmpfs or emptyDir (docker run --read-only --tmpfs /tmp,
# compose `tmpfs: [/tmp]`, Kubernetes an emptyDir at /tmp) for Node and libraries that want one.
ENV NODE_ENV=production \
    TMPDIR=/tmp
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
# No config or keys are baked in: mount them at /etc/trustgate (trustgate.yaml, policy.yaml,
# keys/, and the TLS pair the config names), as docker-compose.yml and deploy/kubernetes do.
# The image's built-in unprivileged `node` user, by number (uid/gid 1000), so that Kubernetes'
# runAsNonRoot can check it. The app files stay root-owned and read-only to it.
USER 1000:1000
EXPOSE 5443
# GET /healthz on 127.0.0.1 at port 5443, or at the port of TRUSTGATE_LISTEN when that is set:
# HTTPS first (the certificate is not checked: this is the container talking to itself), then
# plain HTTP. Node's own fetch, since slim images have no curl.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "process.env.NODE_TLS_REJECT_UNAUTHORIZED='0';process.emitWarning=()=>{};const port=(process.env.TRUSTGATE_LISTEN||':5443').split(':').pop();const ok=(scheme)=>fetch(scheme+'://127.0.0.1:'+port+'/healthz',{signal:AbortSignal.timeout(2000)}).then((r)=>r.ok);ok('https').catch(()=>ok('http')).then((up)=>process.exit(up?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/main.js"]
CMD ["--config", "/etc/trustgate/trustgate.yaml"]
