# The stand-in's build tools, for builds with the Nix sandbox on (as current
# Nix has it by default): the machine's static busybox (Debian's
# busybox-static, /usr/bin/busybox), imported into the store as a fixed
# input, and a derivation of one symlink per busybox applet, to put on a
# builder's PATH. A real nixpkgs brings its own bootstrap tools instead.
#
# The build runs `busybox sh`: nix starts a builder with its base name as
# argv[0], and busybox picks the applet from argv[0] ("busybox" here, so the
# applet is the first argument; "sh" for the ${tools}/bin/sh symlink).
{ system ? builtins.currentSystem }:
let
  dir = if builtins.pathExists /usr/bin/busybox then /usr/bin
    else if builtins.pathExists /bin/busybox then /bin
    else throw "the example needs a static busybox at /usr/bin/busybox: apt-get install busybox-static";
  busybox = builtins.path {
    name = "busybox-static";
    path = dir;
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
