# syntax=docker/dockerfile:1
# Two targets from one file:
#   docker build --target app   -t interview-app .    (Reflex pages + API + websocket on one port)
#   docker build --target agent -t interview-agent .  (LiveKit Agents worker)

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS python-deps
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY requirements.txt constraints.txt ./
RUN python -m venv /opt/venv && /opt/venv/bin/pip install -r requirements.txt
ENV PATH=/opt/venv/bin:$PATH

# bun from the npm registry (Reflex builds the frontend with it; no download from elsewhere).
FROM node:22-bookworm-slim AS bun
RUN npm install --prefix /opt/bun --no-audit --no-fund bun@1.4.5

FROM python-deps AS runtime-base
RUN groupadd --gid 10001 app && useradd --uid 10001 --gid app --create-home --shell /usr/sbin/nologin app
COPY interview_app ./interview_app
COPY alembic ./alembic
COPY alembic.ini rxconfig.py ./

# --- agent ------------------------------------------------------------------
FROM runtime-base AS agent
COPY agent ./agent
RUN mkdir -p /app/data && chown -R app:app /app/data
USER app
ENV AGENT_OUTBOX_DIR=/app/data/outbox AGENT_HTTP_PORT=8081
# 503 while LiveKit is unreachable; the worker also exits non-zero when it cannot connect.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8081/', timeout=4)"
CMD ["python", "-m", "agent", "start"]

# --- app --------------------------------------------------------------------
FROM runtime-base AS app
COPY --from=bun /opt/bun /opt/bun
COPY agent ./agent
COPY assets ./assets
ENV PATH=/opt/bun/node_modules/.bin:$PATH \
    REFLEX_USE_SYSTEM_BUN=1 \
    REFLEX_CHECK_LATEST_VERSION=0 \
    REFLEX_TELEMETRY_ENABLED=false \
    BUN_INSTALL_CACHE_DIR=/app/.bun-cache \
    PORT=3000
RUN mkdir -p /app/data /app/.web /app/.bun-cache && chown -R app:app /app
USER app
# Compile the frontend at image build time: a page that does not compile fails the image build,
# not the first start, and the JavaScript packages are installed now (.web/node_modules and the
# bun cache), so a container needs no package registry. `reflex run --env prod` still compiles
# the pages again when it starts (Reflex 0.10 has no flag to serve an exported build): a start
# costs about a minute of CPU on 2 cores either way (docs/SCALING.md, "Each process has its own
# frontend build").
RUN reflex export --frontend-only --no-zip --loglevel warning
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD python -c "import os,urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"3000\")}/healthz', timeout=4)"
CMD ["sh", "-c", "python -m interview_app.cli migrate && exec reflex run --env prod --frontend-port ${PORT} --backend-port ${PORT}"]
