# Autograd Explorer, CPU image: one replica = one Streamlit server + its sandbox worker pool.
#   docker build -t autograd-explorer .
#   docker run -p 8501:8501 --cpus 2 --memory 8g autograd-explorer
# CUDA variant: see deploy/README.md (base image nvidia/cuda:12.x-runtime, the same torch pin from PyPI, --gpus).
FROM python:3.11-slim-bookworm

# graphviz: server-side graph layout (without it the browser lays graphs out); tini: reaps the worker processes
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends graphviz tini curl \
 && rm -rf /var/lib/apt/lists/*

# The sandbox's RLIMIT_NPROC=0 ("no new processes") only holds for a non-root user: never run this image as root.
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin app
WORKDIR /app
COPY requirements.txt .
# CPU wheels of the pinned torch (the default PyPI wheel on Linux pulls the CUDA runtime, ~3 GB)
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
 && pip install --no-cache-dir -r requirements.txt
COPY --chown=app:app app.py ./
COPY --chown=app:app core ./core
COPY --chown=app:app pages ./pages
COPY --chown=app:app ui ./ui
COPY --chown=app:app lessons ./lessons
COPY --chown=app:app docs/lesson.schema.json ./docs/lesson.schema.json

USER app
ENV PYTHONUNBUFFERED=1 \
    STREAMLIT_SERVER_HEADLESS=true \
    STREAMLIT_SERVER_PORT=8501 \
    STREAMLIT_SERVER_ADDRESS=0.0.0.0 \
    STREAMLIT_SERVER_FILE_WATCHER_TYPE=none \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false \
    STREAMLIT_SERVER_MAX_UPLOAD_SIZE=20
EXPOSE 8501
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8501/_stcore/health | grep -q ok || exit 1
ENTRYPOINT ["tini", "--"]
CMD ["streamlit", "run", "app.py"]
