# Evaluates a deployment's hive.nix into the inventory (see the README and
# `go doc ./internal/inventory Inventory`), without evaluating or building
# any system's configuration:
#
#   nix-instantiate --eval --strict --json HIVE/config.nix \
#     --argstr hiveFile /abs/path/hive.nix --argstr deployment /abs/path
#
# A hive from a flake comes through fromflake.nix, which passes flake =
# { hive = <the flake's output>; currentSystem = "..."; }.
{ hiveFile, deployment, flake ? null }:
let
  lib = import ./lib.nix { file = baseNameOf hiveFile; };
  raw = if flake != null then flake.hive else import hiveFile;
  hive = lib.onlyKeys "top level" [ "paths" "systems" "stores" "sshHosts" "instances" "discover" "rollout" ]
    (if builtins.isAttrs raw then raw
     else lib.fail "top level" "hive.nix must evaluate to an attribute set { systems = ...; instances = ...; }, got ${lib.describe raw}");
  paths = import ./paths.nix { inherit lib hive deployment flake; };
  systems = import ./systems.nix { inherit lib hive paths deployment flake; };
  rest = import ./instances.nix { inherit lib hive systems; };
  discover = import ./discover.nix { inherit lib hive deployment; };
  rollout = import ./rollout.nix { inherit lib hive deployment; };
in
{
  inherit paths systems discover;
  inherit (rest) stores instances sshHosts;
  inherit (rollout) rollout healthChecks keys;
}
