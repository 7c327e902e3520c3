# syntax=docker/dockerfile:1
# One image for the five Tidemark services; the command picks the service:
#   uvicorn --factory tidemark_<service>.app:create_app --host 0.0.0.0 --port 8080
# (the default CMD runs intake). See docs/deployment.md.

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# --- build stage: the locked venv, built by the same script the tests run ------------------
FROM ghcr.io/astral-sh/uv:0.13.9 AS uv
FROM ${PYTHON_IMAGE} AS build
COPY --from=uv /uv /usr/local/bin/uv
# The venv uses the base image's interpreter (same path in the final stage); no downloads;
# bytecode compiled here, because the final stage runs with a read-only root file system.
ENV UV=/usr/local/bin/uv \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PYTHON_DOWNLOADS=never \
    UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1
WORKDIR /src
COPY . /src
RUN ["/bin/bash", "deploy/image/build-venv.sh", "/opt/venv"]

# --- final stage: the interpreter, the venv (which holds the code) and a non-root user ------
FROM ${PYTHON_IMAGE}
RUN ["useradd", "--system", "--uid", "10001", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", "tidemark"]
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
EXPOSE 8080
CMD ["uvicorn", "--factory", "tidemark_intake.app:create_app", "--host", "0.0.0.0", "--port", "8080"]
