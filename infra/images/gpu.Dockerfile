# GPU function image: CUDA 12 + cuDNN 9 runtime, Node 22, onnxruntime-node with its CUDA EP
# libraries, FFmpeg with NVENC. Build from the repository root:
#   docker build -f infra/images/gpu.Dockerfile -t reelmesh-gpu .
# Not built in this repository's CI (no Docker engine and no GPU there); the CPU image
# (cpu.Dockerfile) shares every line that is not about CUDA.
FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

ENV DEBIAN_FRONTEND=noninteractive \
    NODE_ENV=production \
    REELMESH_EXECUTION_PROVIDERS=cuda,cpu \
    REELMESH_ALLOW_CPU_FALLBACK=false \
    REELMESH_CONCURRENT_JOBS=4 \
    REELMESH_VIDEO_CODEC=h264_nvenc \
    REELMESH_METRICS_PORT=9464 \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility,video

# ffmpeg from Ubuntu links libnvidia-encode at run time (h264_nvenc) when the driver exposes it.
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl ffmpeg \
    && curl -fsSL https://deb.nodesource.com/setup_22.x | bash - \
    && apt-get install -y --no-install-recommends nodejs \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# The project skips onnxruntime-node's download of its CUDA libraries (.npmrc, and "allowScripts"
# in package.json for npm 11+); this image opts in explicitly by running that install script
# itself for the CUDA 12 EP libraries (needs CUDA 12 + cuDNN 9), whatever npm's version.
RUN npm ci --omit=dev \
    && ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install \
    && test -f node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so
COPY shared ./shared
COPY infra/scaling/policy.ts ./infra/scaling/policy.ts
COPY gpu-functions ./gpu-functions
# The model package must be mounted or baked at /models/<id>: with REELMESH_MODEL_DIR set, nothing
# is built (only a worker without it builds the reference model on first use).
ENV REELMESH_MODEL_DIR=/models/reelmesh-ref-tiny

# Prometheus metrics (cost to serve) and the probes: /healthz (alive), /readyz (model loaded on
# its execution provider; docs/worker.md).
EXPOSE 9464
# Liveness through node, as in the CPU image. /healthz answers before the model loads.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD node -e "fetch('http://127.0.0.1:9464/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# SIGTERM drains within REELMESH_DRAIN_S: the job in progress is handed back for another worker.
STOPSIGNAL SIGTERM
CMD ["node", "gpu-functions/main.ts"]
