# Step 2: the systems to build, without evaluating their configuration.
# Each system has the include paths it is built with (its own `path`, or the
# top level `paths`; deployment= always first), its nix settings, its target
# platform and its tags.
{ lib, hive, paths, deployment }:
let
  systems = lib.attrs "systems" (hive.systems or { });
  one = name: raw:
    let
      where = "systems.${lib.checkName "systems" name}";
      s = lib.onlyKeys where [ "configuration" "path" "nix" "system" "tags" "healthChecks" "keys" ] (lib.attrs where raw);
      nix = lib.optAttrs "${where}.nix" (s.nix or null);
    in
    if !(s ? configuration) then lib.fail "${where}.configuration" "missing; set it to a NixOS module (a path, function or attribute set)"
    else {
      path =
        if s ? path && s.path != null
        then [ "deployment=${deployment}" ] ++ lib.includePaths "${where}.path" s.path
        else paths;
      nix = builtins.mapAttrs (k: v: lib.confValue "${where}.nix.${k}" v) nix;
      system = lib.string "${where}.system" (s.system or builtins.currentSystem);
      tags = lib.strings "${where}.tags" (s.tags or [ ]);
    };
in
builtins.mapAttrs one systems
