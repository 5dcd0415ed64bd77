# The benchmark's stand-in for <nixpkgs/nixos>: the example fleet's system
# (its switch-to-configuration) with a closure shaped like a NixOS one, of
# `base` packages every system shares and `own` packages of its own.
{ configuration, system ? builtins.currentSystem }:
let
  config = import configuration;
  example = import ../../example/nixos { configuration = { name = config.name; }; inherit system; };
  tools = import ../../example/busybox.nix { inherit system; };
  packages = import ../packages.nix { inherit system tools; salt = config.salt or ""; };
  base = packages.chain "base" config.base;
  own = packages.chain config.name config.own;
  inner = example.config.system.build.toplevel;
in
{
  config.system.build.toplevel = derivation {
    name = "nixos-system-${config.name}";
    inherit system;
    builder = "${tools}/bin/sh";
    PATH = "${tools}/bin";
    packages = map toString (base ++ own);
    inherit inner;
    args = [ "-c" ''
      set -e
      mkdir -p "$out/sw" "$out/bin" "$out/etc"
      cp "$inner/etc/motd" "$out/etc/motd"
      echo "$packages" > "$out/sw/packages"
      # The example's switch-to-configuration, then /run/current-system
      # pointed at this system.
      cat > "$out/bin/switch-to-configuration" <<EOF
      #!/bin/sh
      $inner/bin/switch-to-configuration "\$@" || exit \$?
      case "\$1" in switch|test) ln -sfn $out /run/current-system ;; esac
      EOF
      sed -i 's/^      //' "$out/bin/switch-to-configuration"
      chmod +x "$out/bin/switch-to-configuration"
      ln -s bin/switch-to-configuration "$out/activate"
    '' ];
  };
}
