# The edge hosts' configuration. It reads <site/motd>, which only the edge
# system's own include path (systems.edge.path in hive.nix) provides; the
# flake version of the example, which has no include paths, passes `site`.
{ site ? <site>, ... }:
{
  networking.hostName = "edge";
  motd = builtins.readFile (site + "/motd");
  payloadBytes = 1048576; # a 1 MiB file, so the closure has some weight
}
