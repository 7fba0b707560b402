# syntax=docker/dockerfile:1
# AstraGuard: a static binary on an empty base, run as a non-root user,
# happy with a read-only root filesystem (it writes only to --state-dir
# and /tmp; mount volumes there). Without a Docker daemon, build the same
# image with `make image` (deploy/cmd/agimage, go-containerregistry).
#
#   docker build -t astraguard .
#   docker run --rm -p 50051:50051 -p 8080:8080 --read-only astraguard

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG TARGETOS=linux
ARG TARGETARCH=amd64
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -buildvcs=auto -ldflags="-s -w" -o /out/ ./cmd/astraguard ./cmd/astraguard-model ./cmd/agctl
RUN mkdir -p /rootfs/etc /rootfs/tmp /rootfs/var/lib/astraguard && chmod 1777 /rootfs/tmp && \
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/var/lib/astraguard:/sbin/nologin\n' > /rootfs/etc/passwd && \
    printf 'root:x:0:\nnonroot:x:65532:\n' > /rootfs/etc/group && \
    chown 65532:65532 /rootfs/var/lib/astraguard && chmod 700 /rootfs/var/lib/astraguard

FROM scratch
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="astraguard" \
      org.opencontainers.image.description="AstraGuard anomaly-detection gRPC service with a circuit-broken model client" \
      org.opencontainers.image.source="https://github.com/astraguard/astraguard" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /rootfs/ /
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/astraguard /out/astraguard-model /out/agctl /usr/local/bin/
ENV PATH=/usr/local/bin
USER 65532:65532
EXPOSE 50051 8080
VOLUME ["/var/lib/astraguard"]
ENTRYPOINT ["/usr/local/bin/astraguard"]
