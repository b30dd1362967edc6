# The CodySkool server as an image. It runs programs with the Docker backend, in containers that
# the HOST's Docker engine starts: the engine's socket is mounted into this container, and the
# sandbox image must exist on the host. (The sandbox image is sandbox/Dockerfile, not this file.)
#
#   scripts/setup-docker.sh                      # on the host: engine + codyskool-sandbox:latest
#   docker build -t codyskool .
#   docker run -d --name codyskool -p 127.0.0.1:8000:8000 \
#     -v /var/run/docker.sock:/var/run/docker.sock \
#     --group-add "$(stat -c %g /var/run/docker.sock)" \
#     -v codyskool-data:/app/data \
#     codyskool
#
# The server runs as an unprivileged user; --group-add gives it the socket's group. Whoever can
# use that socket can control the host's engine (it is root-equivalent), so expose this server
# only where that is acceptable, and publish the port on an address you mean to serve.
# The SQLite database lives in /app/data (keep it in a volume) unless CODYSKOOL_DATABASE_URL
# points elsewhere.
#
# The defaults pull official images; on a machine without them, pass any Debian bookworm based
# Python 3.11 image (with pip) as BASE and any Node.js >= 18 image (with npm) as NODE_BASE.
ARG BASE=python:3.11-slim-bookworm
ARG NODE_BASE=node:20-bookworm-slim

# --- The front-end bundle (static/build/) ---
FROM ${NODE_BASE} AS frontend
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# --- The server ---
FROM ${BASE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt ./
RUN python -m pip install -r requirements.txt

RUN groupadd --gid 10000 codyskool \
 && useradd --uid 10000 --gid 10000 --home-dir /app --no-create-home --shell /usr/sbin/nologin codyskool \
 && install -d -o 10000 -g 10000 /app/instance /app/data

# The application: codyskool/, templates/, static/, sandbox/, wsgi.py, migrations/ and
# alembic.ini, examples/ ... everything that .dockerignore does not leave out (tests, tooling,
# local state), so that a new folder the server reads needs no change here.
COPY . .
COPY --from=frontend /src/static/build/ static/build/

ENV CODYSKOOL_BACKEND=docker \
    CODYSKOOL_HOST=0.0.0.0 \
    CODYSKOOL_PORT=8000

USER 10000:10000
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4)"]
CMD ["python", "-m", "codyskool", "serve"]
