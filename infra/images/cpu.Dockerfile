# CPU (x86-64 or ARM64) GPU-function image: the same worker on ONNX Runtime's CPU EP, for
# economy capacity without accelerators and for local runs. Build from the repository root:
#   docker build -f infra/images/cpu.Dockerfile -t reelmesh-cpu .
FROM node:22-bookworm-slim

ENV NODE_ENV=production \
    REELMESH_EXECUTION_PROVIDERS=cpu \
    REELMESH_METRICS_PORT=9464

RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev
COPY shared ./shared
COPY infra/scaling/policy.ts ./infra/scaling/policy.ts
COPY gpu-functions ./gpu-functions

# Prometheus metrics and the probes: /healthz (alive), /readyz (model loaded; docs/worker.md).
EXPOSE 9464
# Liveness through node: the image has no curl. /healthz answers before the model loads.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD node -e "fetch('http://127.0.0.1:9464/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# SIGTERM drains within REELMESH_DRAIN_S: the job in progress is handed back for another worker.
STOPSIGNAL SIGTERM
CMD ["node", "gpu-functions/main.ts"]
