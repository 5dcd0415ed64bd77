#!/bin/sh
# Records closure.QueryScript's output for closures.nix with the nix on
# PATH: sh record.sh LABEL (writes LABEL-before.txt and LABEL-after.txt).
set -e
cd "$(dirname "$0")"
for side in before after; do
	p=$(nix-build --no-out-link closures.nix -A $side)
	sh -c 'set -e; paths=$(nix-store --query --requisites "$1"); printf '"'"'%s\n\n'"'"' "$paths"; nix-store --query --size $paths' sh "$p" >"$1-$side.txt"
done
