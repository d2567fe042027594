# wmss for GPU machines: CUDA runtime, Python with torch and transformers,
# and the wmss binary linked against that Python. Not built in this
# project's CI (its machines have no Docker engine and no PyPI); see README.
#
#   docker build -t wmss .
#   docker run --gpus all -p 8080:8080 -v $PWD/data:/data wmss
FROM nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04 AS base
ENV DEBIAN_FRONTEND=noninteractive PIP_BREAK_SYSTEM_PACKAGES=1
RUN apt-get update && apt-get install -y --no-install-recommends \
        python3 python3-pip python3-dev pkg-config gcc ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
RUN pip3 install --no-cache-dir torch transformers safetensors numpy sympy jinja2

FROM base AS build
COPY --from=golang:1.26-bookworm /usr/local/go /usr/local/go
ENV PATH=/usr/local/go/bin:$PATH
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN go build -o /out/wmss ./cmd/wmss

FROM base
COPY --from=build /out/wmss /usr/local/bin/wmss
COPY bridge/wmss_engine /opt/wmss/bridge/wmss_engine
# Ubuntu 24.04's interpreter is 3.12; the binary links the same libpython.
ENV WMSS_PYTHON=/usr/bin/python3.12 \
    WMSS_ENGINE_DIR=/opt/wmss/bridge \
    WMSS_ADDR=0.0.0.0:8080 \
    WMSS_DATA_DIR=/data
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["wmss", "serve"]
