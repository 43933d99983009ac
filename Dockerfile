# syntax=docker/dockerfile:1
# The quantdesk image: `docker build -t quantdesk .` (deploy/README.md walks through the rest).
# It sits at the repository root because its build context is the whole source tree
# (pyproject.toml, README.md, src/): `docker build .` finds it without -f, and
# deploy/docker-compose.yml builds it with `context: ..`.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- builder: a wheel of quantdesk and wheels of all its dependencies --------------------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
# The dashboard's browser libraries (pinned by integrity and sha256 in
# src/quantdesk/web/vendor.lock.json) go into the source tree first, so the wheel carries them.
# Plain Python (no Node); NPM_CONFIG_REGISTRY names a mirror.
ARG NPM_CONFIG_REGISTRY=
RUN PYTHONPATH=src python -m quantdesk.web.vendor
RUN pip wheel --wheel-dir /wheels .

# --- runtime: the installed wheel, a non-root user, compiled kernels --------------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    NUMBA_CACHE_DIR=/opt/quantdesk/numba-cache \
    MPLCONFIGDIR=/tmp/matplotlib \
    QUANTDESK_HOST=0.0.0.0 \
    QUANTDESK_PORT=8000
# pg_dump / pg_restore for `quantdesk db backup|restore` (PostgreSQL 15 client: dumps servers up
# to 15; deploy/docker-compose.yml runs postgres:15).
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 quantdesk \
    && useradd --system --uid 10001 --gid quantdesk --home-dir /app --create-home \
       --shell /usr/sbin/nologin quantdesk \
    && install -d -o quantdesk -g quantdesk /opt/quantdesk/numba-cache /app/var
COPY --from=builder /wheels /wheels
RUN pip install --no-index --find-links=/wheels quantdesk && rm -rf /wheels
WORKDIR /app
USER quantdesk
# Compile every numba kernel into NUMBA_CACHE_DIR now, so no process of the image compiles at
# run time (the app's start-up warm-up then only loads them). The cache is for this CPU
# family: on another one numba compiles again at first use (deploy/README.md).
RUN python -c "from quantdesk.engine.warmup import warm_kernels; print(len(warm_kernels()), 'kernels cached')"
VOLUME ["/app/var"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/live' % os.environ.get('QUANTDESK_PORT', '8000'), timeout=4)" || exit 1
ENTRYPOINT ["quantdesk"]
CMD ["serve"]
