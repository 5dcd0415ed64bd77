# Step 2: the systems to build, without evaluating their configuration.
# Each system has the include paths it is built with (its own `path`, or the
# top level `paths`; deployment= always first), its nix settings, its target
# platform and its tags. In a hive from a flake (flake != null) a system has
# no include paths and may give `nixosConfiguration` (an evaluated NixOS
# configuration) instead of `configuration`; its platform defaults to the
# runner's, which nix-hive passes in flake.currentSystem.
{ lib, hive, paths, deployment, flake ? null }:
let
  systems = lib.attrs "systems" (hive.systems or { });
  isFlake = flake != null;
  keys = [ "configuration" "path" "nix" "system" "tags" "healthChecks" "keys" ] ++ (if isFlake then [ "nixosConfiguration" ] else [ ]);
  one = name: raw:
    let
      where = "systems.${lib.checkName "systems" name}";
      s = lib.onlyKeys where keys (lib.attrs where raw);
      nix = lib.optAttrs "${where}.nix" (s.nix or null);
    in
    if isFlake && s ? path then lib.fail "${where}.path" lib.flakeNoPaths
    else if isFlake && s ? configuration && s ? nixosConfiguration then
      lib.fail "${where}" "give either configuration (a NixOS module) or nixosConfiguration (an evaluated NixOS configuration), not both"
    else if !(s ? configuration || s ? nixosConfiguration) then
      lib.fail "${where}.configuration" ("missing; set it to a NixOS module (a path, function or attribute set)"
        + (if isFlake then ", or set nixosConfiguration to an evaluated one (nixpkgs.lib.nixosSystem { ... })" else ""))
    else {
      path =
        if isFlake then [ ]
        else if s ? path && s.path != null
        then [ "deployment=${deployment}" ] ++ lib.includePaths "${where}.path" s.path
        else paths;
      nix = builtins.mapAttrs (k: v: lib.confValue "${where}.nix.${k}" v) nix;
      system = lib.string "${where}.system" (s.system or (if isFlake then flake.currentSystem else builtins.currentSystem));
      tags = lib.strings "${where}.tags" (s.tags or [ ]);
    };
in
builtins.mapAttrs one systems
