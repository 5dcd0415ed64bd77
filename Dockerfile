# The nix-hive GitHub Action's image: nix-hive built as a static binary
# (hive/*.nix are embedded in it) on Debian 13 with Debian's Nix (nix-bin),
# the OpenSSH client, CA certificates and git. action.yml runs the image the
# release workflow publishes as `nix-hive action`. There is no USER or
# WORKDIR, as GitHub asks of container actions (it runs them as root in
# /github/workspace).
#
# Both stages start from DEBIAN_IMAGE. The build stage takes Debian's Go
# (golang-go) and lets it fetch the toolchain named by GO_TOOLCHAIN from the
# Go module proxy, checked against the Go checksum database, so the image
# builds wherever Debian's archive and the Go proxy are reachable: on
# GitHub, and on machines that reach no other registry (scripts/test-image
# builds it from a debootstrapped Debian 13 imported as the base image).
# Where the Go proxy is reached through a private certificate authority,
# pass the CA bundle as the build secret `ca-certificates`; it is used for
# downloads only and does not go into the image.
ARG DEBIAN_IMAGE=debian:trixie-slim

FROM ${DEBIAN_IMAGE} AS build
ARG GO_TOOLCHAIN=go1.26.8
# The builder's Go proxy settings, if it has any (unset ones keep Go's defaults).
ARG GOPROXY
ARG GOSUMDB
ARG GONOSUMDB
ARG GOPRIVATE
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends golang-go ca-certificates \
    && rm -rf /var/lib/apt/lists/*
ENV CGO_ENABLED=0 GOTOOLCHAIN=${GO_TOOLCHAIN}
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=secret,id=ca-certificates,target=/run/secrets/ca-certificates \
    if [ -s /run/secrets/ca-certificates ]; then export SSL_CERT_FILE=/run/secrets/ca-certificates; fi \
    && go mod download && go version
COPY . .
RUN go build -trimpath -buildvcs=false -ldflags="-s -w" -o /out/nix-hive . \
    && /out/nix-hive --help >/dev/null

FROM ${DEBIAN_IMAGE}
# Nix set up for a container: root builds without build users and without
# the sandbox (a container may not make the namespaces it needs), and the
# nix command (nix copy, nix store sign) is enabled. NIX_PATH is empty: a
# hive pins its own nixpkgs, never the image's.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       nix-bin openssh-client ca-certificates git \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /etc/nix /nix \
    && printf '%s\n' \
       '# The nix-hive image: root builds alone, no sandbox, nix-command on.' \
       'build-users-group =' \
       'sandbox = false' \
       'experimental-features = nix-command' >/etc/nix/nix.conf \
    && nix --version && ssh -V && git --version
ENV NIX_PATH=
COPY --from=build /out/nix-hive /usr/local/bin/nix-hive
COPY image/entrypoint /usr/local/bin/nix-hive-entrypoint
ENTRYPOINT ["/usr/local/bin/nix-hive-entrypoint"]
