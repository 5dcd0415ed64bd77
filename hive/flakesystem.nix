# Step 3 for a hive from a flake: one system's toplevel derivation, evaluated
# purely. A system's nixosConfiguration (what nixpkgs.lib.nixosSystem
# returns) gives config.system.build.toplevel directly; its configuration is
# evaluated with the flake's nixpkgs input:
#
#   nix-instantiate --option pure-eval true -E 'import ((builtins.fetchTree ...) + "/flakesystem.nix")' \
#     --argstr url LOCKED-URL --argstr attr nixHive --argstr name web --argstr system x86_64-linux
{ url, attr, name, system }:
let
  from = import ./flakehive.nix { inherit url attr; };
  lib = import ./lib.nix { file = from.file; };
  where = "systems.${name}";
  s = from.hive.systems.${name};
  evaluated = s.nixosConfiguration;
  nixpkgs = from.flake.inputs.nixpkgs or (lib.fail "${where}.configuration"
    "the flake has no nixpkgs input to evaluate it with; add inputs.nixpkgs.url to flake.nix, or give nixosConfiguration = nixpkgs.lib.nixosSystem { ... } instead");
in
if s ? nixosConfiguration then
  (if builtins.isAttrs evaluated && evaluated ? config.system.build.toplevel then evaluated.config.system.build.toplevel
   else lib.fail "${where}.nixosConfiguration" "expected an evaluated NixOS configuration (what nixpkgs.lib.nixosSystem returns, with config.system.build.toplevel), got ${lib.describe evaluated}")
else
  (nixpkgs.lib.nixosSystem { inherit system; modules = [ s.configuration ]; }).config.system.build.toplevel
