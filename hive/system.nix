# Step 3: one system's toplevel derivation, evaluated through <nixpkgs/nixos>
# with the include paths nix-hive passes (-I) for this system:
#
#   nix-instantiate HIVE/system.nix --argstr hiveFile /abs/hive.nix \
#     --argstr name web --argstr system x86_64-linux -I deployment=... -I ...
{ hiveFile, name, system }:
let
  hive = import hiveFile;
in
(import <nixpkgs/nixos> {
  inherit system;
  configuration = hive.systems.${name}.configuration;
}).config.system.build.toplevel
