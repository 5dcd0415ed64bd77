# The example fleet as a flake: the systems, stores and instances of
# examples/fleet, with nixpkgs a flake input pinned by flake.lock and the
# hive in outputs.nixHive. A directory with a flake.nix and no hive.nix is a
# hive from a flake, so `nix-hive deploy --hive examples/fleet-flake` deploys
# it (`--hive DIR#ATTR` names another output). Every field is explained in
# the README ("hive.nix reference").
#
# systems/, site/, hosts.nix, fleet.nix (the include-path hive.nix) and
# nixpkgs/ (the offline stand-in, as a flake) are links to ../fleet, so both
# versions deploy the same systems. The lab copies them in, puts a static
# busybox beside nixpkgs/flake.nix and writes flake.lock
# (internal/labfleet.PrepareFlake).
{
  description = "nix-hive's example fleet, as a flake";

  # A real fleet pins a nixpkgs here: inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";
  inputs.nixpkgs.url = "path:./nixpkgs";

  outputs = { self, nixpkgs }:
    let
      system = "x86_64-linux";
      # The stores, sshHosts and instances are the include-path example's.
      fleet = import ./fleet.nix;
    in
    {
      # An ordinary NixOS configuration of the flake (nixos-rebuild --flake
      # .#web would build it too); nix-hive deploys it as the web system.
      nixosConfigurations.web = nixpkgs.lib.nixosSystem {
        inherit system;
        modules = [ ./systems/web.nix ];
      };

      nixHive = {
        # No `paths` and no systems.*.path: evaluation is pure and every
        # source comes from the flake's inputs.
        systems = {
          # An evaluated configuration: nix-hive builds its
          # config.system.build.toplevel.
          web = { nixosConfiguration = self.nixosConfigurations.web; tags = [ "frontend" ]; };
          # A NixOS module, evaluated with inputs.nixpkgs (its lib.nixosSystem)
          # for the system's platform (default: the runner's).
          db = { configuration = ./systems/db.nix; nix = { cores = 1; }; tags = [ "backend" ]; };
          # What <site/motd> gives the include-path version comes from the flake.
          edge = { configuration = { ... }: import ./systems/edge.nix { site = ./site; }; tags = [ "edge" ]; };
        };
        inherit (fleet) stores sshHosts instances;
      };
    };
}
