# The web servers' configuration (a NixOS module with a real nixpkgs).
{ ... }:
{
  networking.hostName = "web";
  motd = "web server, deployed by nix-hive";
}
