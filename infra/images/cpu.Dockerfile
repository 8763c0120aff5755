# CPU (x86-64 or ARM64) GPU-function image: the same worker on ONNX Runtime's CPU EP, for
# economy capacity without accelerators and for local runs. Build from the repository root:
#   docker build -f infra/images/cpu.Dockerfile -t reelmesh-cpu .
FROM node:22-bookworm-slim

ENV NODE_ENV=production \
    REELMESH_EXECUTION_PROVIDERS=cpu

RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev
COPY shared ./shared
COPY gpu-functions ./gpu-functions

STOPSIGNAL SIGTERM
CMD ["node", "gpu-functions/main.ts"]
