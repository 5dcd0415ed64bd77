# The nix-hive GitHub Action's image: nix-hive built as a static binary
# (hive/*.nix are embedded in it), on an image with current Nix and the
# OpenSSH client. action.yml runs it as `nix-hive action`. The base images
# are build arguments; there is no USER or WORKDIR, as GitHub asks of
# container actions (it runs them as root in /github/workspace).
ARG GO_IMAGE=golang:1.26-bookworm
ARG NIX_IMAGE=nixos/nix:2.24.9

FROM ${GO_IMAGE} AS build
ENV CGO_ENABLED=0
COPY go.mod go.sum /src/
RUN go -C /src mod download
COPY . /src
RUN go -C /src build -trimpath -buildvcs=false -ldflags="-s -w" -o /out/nix-hive . \
    && /out/nix-hive --help >/dev/null

FROM ${NIX_IMAGE}
# nixos/nix ships ssh; install it from the bundled channel should a base
# image not, and fail the build if Nix or ssh are missing.
RUN command -v ssh >/dev/null || nix-env -iA nixpkgs.openssh; \
    nix --version && ssh -V
COPY --from=build /out/nix-hive /usr/local/bin/nix-hive
ENTRYPOINT ["/usr/local/bin/nix-hive"]
