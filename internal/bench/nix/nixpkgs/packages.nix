# The benchmark's stand-in packages: a NixOS-like closure of many store
# paths, most of them shared between systems. Package i holds a file of a
# size that depends on i (most tens of kilobytes, every 25th one
# megabyte) and refers to two earlier packages, as real packages refer to
# their libraries. `salt` makes every path new (fresh hosts without wiping
# them); `set` names the package set ("base" is shared by every system).
{ system ? builtins.currentSystem, tools, salt ? "" }:
let
  size = i: if i - (i / 25) * 25 == 24 then 1048576 else 16384 + (i * 7919 - (i * 7919 / 97) * 97) * 1024;
  pkg = set: i: deps: derivation {
    name = "${set}-pkg-${toString i}";
    inherit system salt;
    builder = "${tools}/bin/sh";
    PATH = "${tools}/bin";
    bytes = toString (size i);
    deps = map toString deps;
    args = [ "-c" ''
      set -e
      mkdir -p "$out/lib" "$out/nix-support"
      head -c "$bytes" /dev/urandom > "$out/lib/data"
      echo "$deps" > "$out/nix-support/propagated"
    '' ];
  };
  # A chain where package i refers to packages i-1 and i/2.
  chain = set: n:
    let go = i: acc:
      if i == n then acc
      else go (i + 1) (acc ++ [ (pkg set i (if i == 0 then [ ] else [ (builtins.elemAt acc (i - 1)) (builtins.elemAt acc (i / 2)) ])) ]);
    in go 0 [ ];
in
{
  inherit chain;
}
