# The stand-in's build tools, for builds with the Nix sandbox on (as current
# Nix has it by default): the machine's static busybox (Debian's
# busybox-static, /usr/bin/busybox), imported into the store as a fixed
# input, and a derivation of one symlink per busybox applet, to put on a
# builder's PATH. A real nixpkgs brings its own bootstrap tools instead.
#
# `dir` is a directory holding the busybox binary instead of /usr/bin: the
# stand-in's flake (flake.nix) passes its own source, since pure evaluation
# reads nothing outside the flake. Either way the imported busybox is the
# same store path for the same binary.
#
# The build runs `busybox sh`: nix starts a builder with its base name as
# argv[0], and busybox picks the applet from argv[0] ("busybox" here, so the
# applet is the first argument; "sh" for the ${tools}/bin/sh symlink).
{ system ? builtins.currentSystem, dir ? null }:
let
  found =
    if dir != null then
      (if builtins.pathExists (dir + "/busybox") then dir
       else throw "the example's stand-in nixpkgs flake needs a static busybox beside its flake.nix: cp /usr/bin/busybox into the nixpkgs directory (the lab does; apt-get install busybox-static)")
    else if builtins.pathExists /usr/bin/busybox then /usr/bin
    else if builtins.pathExists /bin/busybox then /bin
    else throw "the example needs a static busybox at /usr/bin/busybox: apt-get install busybox-static";
  busybox = builtins.path {
    name = "busybox-static";
    path = found;
    filter = path: type: baseNameOf path == "busybox";
  };
in
derivation {
  name = "busybox-tools";
  inherit system;
  builder = "${busybox}/busybox";
  args = [ "sh" "-c" ''
    set -e
    ${busybox}/busybox mkdir -p "$out/bin"
    for applet in $(${busybox}/busybox --list); do
      ${busybox}/busybox ln -s ${busybox}/busybox "$out/bin/$applet"
    done
  '' ];
}
