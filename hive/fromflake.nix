# Evaluates a hive from a flake into the inventory, like config.nix for a
# hive.nix, purely (pure-eval: inputs from flake.lock, no NIX_PATH) and
# without evaluating any system's configuration:
#
#   nix-instantiate --eval --strict --json --option pure-eval true \
#     -E 'import ((builtins.fetchTree { type = "path"; path = HIVE; narHash = ...; }) + "/fromflake.nix")' \
#     --argstr url LOCKED-URL --argstr attr nixHive --argstr currentSystem x86_64-linux \
#     --argstr deployment /abs/flake/dir
#
# (deployment, the flake's directory, only anchors discover's relative
# Terraform state strings, as the hive.nix directory does.)
#
# (Pure evaluation reads no file outside the store, so nix-hive's
# expressions come in through fetchTree, pinned by their hash.)
{ url, attr, currentSystem, deployment }:
let
  from = import ./flakehive.nix { inherit url attr; };
in
import ./config.nix {
  hiveFile = from.file;
  inherit deployment;
  flake = { inherit (from) hive; inherit currentSystem; };
}
