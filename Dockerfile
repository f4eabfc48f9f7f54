# syntax=docker/dockerfile:1
#
# warta's container image.
#
#   docker build -t warta:0.1.0 .
#   docker run --rm -e WARTA__KAFKA__BROKERS=kafka:9092 -p 9898:9898 warta:0.1.0
#
# The build stage runs the release build exactly as CI does
# (`cargo build --release --locked`). The runtime stage is debian:bookworm-slim
# (the same glibc as the build stage) with only the binary and the default
# configuration copied in; it runs as an unprivileged user.
#
# Configuration: /etc/warta/warta.toml (the documented defaults, config/default.toml;
# mount your own file over it) plus WARTA__SECTION__KEY environment variables.
# Validate a configuration with the image itself:
#   docker run --rm -v "$PWD/deploy/warta.toml:/etc/warta/warta.toml:ro" warta:0.1.0 \
#     check-config --config /etc/warta/warta.toml

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS build
# rdkafka-sys builds the bundled librdkafka with its own configure script and
# make (bash, make, a C compiler) and links the system zlib found by pkg-config.
# The rust image has all of these already; installing them by name says so and
# keeps the build working should the base image slim down. No cmake is needed.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The cache mounts keep the crates.io downloads and the target directory between
# builds; the binary is copied out of the cached target directory in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
 && install -D -m 0755 target/release/warta /out/warta

FROM debian:bookworm-slim AS runtime
# ca-certificates: the CA bundle librdkafka reads for SSL listeners. Nothing else:
# the binary needs only glibc, libgcc and zlib, which the slim image has.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 warta \
 && useradd --system --uid 10001 --gid warta --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin warta
COPY --from=build /out/warta /usr/local/bin/warta
COPY --from=build /src/config/default.toml /etc/warta/warta.toml
# Numeric, so that Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
# metrics.listen: /metrics, /healthz, /readyz.
EXPOSE 9898
# Liveness from /healthz on metrics.listen's port (9898; change both together).
# The slim image has no curl or wget, and adding either (or busybox) only for
# this would add a package and its updates to the image; bash, which the image
# has anyway, speaks enough HTTP over /dev/tcp. Unhealthy = no listener, no
# answer within the timeout, or a status other than 200.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9898 && printf 'GET /healthz HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && IFS= read -r -t 4 status <&3 && [[ $status == 'HTTP/1.'?' 200 '* ]]"]
# warta drains the open batch on SIGTERM (shutdown.drain_timeout_ms, 10 s by
# default): give `docker stop` more than that (compose: stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["warta"]
CMD ["run", "--config", "/etc/warta/warta.toml"]
