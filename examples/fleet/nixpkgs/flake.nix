# The stand-in nixpkgs as a flake, for the flake version of the example
# (examples/fleet-flake): lib.nixosSystem { system; modules = [ ... ]; }
# returns what nixpkgs' does, as far as nix-hive looks (config.system.build.toplevel),
# built by nixos/default.nix. Pure evaluation reads nothing outside a flake,
# so the static busybox its builds run with must be a file named busybox
# beside this flake.nix (the lab copies /usr/bin/busybox there); with the
# same binary the systems are the same store paths as the include-path
# example's.
{
  description = "nix-hive's offline stand-in for nixpkgs";

  outputs = { self }: {
    lib.nixosSystem = { system, modules, ... }:
      let
        load = m:
          let imported = if builtins.isPath m then import m else m;
          in if builtins.isFunction imported then imported { } else imported;
      in
      import ./nixos {
        inherit system;
        configuration = builtins.foldl' (config: m: config // load m) { } modules;
        busyboxDir = ./.;
      };
  };
}
