# Step 4: the stores, the instances mapped to their systems and stores, and
# the ssh options of every instance and sshHosts entry, from which nix-hive
# writes one ssh_config, so that ssh (and nix through NIX_SSHOPTS) reaches
# instances by name, through ProxyJump bastions where hive.nix says so.
{ lib, hive, systems }:
let
  inherit (builtins) attrNames concatStringsSep mapAttrs hasAttr;

  storesRaw = lib.attrs "stores" (hive.stores or { });
  stores = mapAttrs
    (name: raw:
      let
        where = "stores.${lib.checkName "stores" name}";
        s = lib.onlyKeys where [ "url" "substituter" "publicKey" ] (lib.attrs where raw);
        url = lib.string "${where}.url" (s.url or (lib.fail "${where}.url" "missing; set it to the store nix-hive pushes to, e.g. \"ssh-ng://cache-eu\""));
      in
      {
        inherit url;
        substituter = lib.string "${where}.substituter" (s.substituter or url);
        publicKey = lib.optString "${where}.publicKey" (s.publicKey or null);
      })
    storesRaw;

  sshHostsRaw = lib.attrs "sshHosts" (hive.sshHosts or { });
  instancesRaw = lib.attrs "instances" (hive.instances or { });

  sshOptions = where: raw:
    mapAttrs (k: v: lib.sshValue "${where}.${lib.sshKey where k}" v) (lib.attrs where raw);

  instances = mapAttrs
    (name: raw:
      let
        where = "instances.${lib.checkName "instances" name}";
        i = lib.onlyKeys where [ "system" "store" "tags" "ssh" "environment" "url" "keys" ] (lib.attrs where raw);
        system = lib.string "${where}.system" (i.system or (lib.fail "${where}.system" "missing; set it to one of the systems: ${concatStringsSep ", " (attrNames systems)}"));
        store = lib.optString "${where}.store" (i.store or null);
      in
      if !(hasAttr system systems) then
        lib.fail "${where}.system" "unknown system \"${system}\"; the systems are: ${concatStringsSep ", " (attrNames systems)}"
      else if store != null && !(hasAttr store stores) then
        lib.fail "${where}.store" "unknown store \"${store}\"; the stores are: ${concatStringsSep ", " (attrNames stores)}"
      else if hasAttr name sshHostsRaw then
        lib.fail "sshHosts.${name}" "\"${name}\" is also an instance; an instance's ssh options go in instances.${name}.ssh"
      else {
        inherit system store;
        tags = lib.strings "${where}.tags" (i.tags or [ ]);
        ssh = sshOptions "${where}.ssh" (i.ssh or { });
        environment = lib.string "${where}.environment" (i.environment or "production");
        url = lib.optString "${where}.url" (i.url or null);
      })
    instancesRaw;

  sshHosts = mapAttrs (name: raw: sshOptions "sshHosts.${lib.checkName "sshHosts" name}" raw) sshHostsRaw;

in
{
  # The ssh options stay structured: nix-hive renders the one ssh_config
  # from them (instances' and sshHosts' blocks) with one quoting rule, and
  # lets ssh judge what it accepts.
  inherit stores instances sshHosts;
}
