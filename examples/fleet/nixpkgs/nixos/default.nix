# A tiny stand-in for <nixpkgs/nixos>, so that this example deploys offline,
# on machines without a nixpkgs checkout or a binary cache. It takes the same
# arguments as nixpkgs' nixos/default.nix and returns the same attribute
# nix-hive builds, config.system.build.toplevel: a small system whose
# bin/switch-to-configuration does what NixOS's does to /run/current-system,
# with NixOS's lock and exit codes (switchExitCode = 2, 4 or 100 on demand),
# and records each call in /run/nix-hive-example/activations. It builds with
# the Nix sandbox on: its builder is a static busybox from the store
# (../busybox.nix) and its PATH holds nothing else.
#
# With a real fleet, point `paths` in hive.nix at a nixpkgs checkout instead
# ("nixpkgs=/path/to/nixpkgs" or a pinned fetchTarball) and write ordinary
# NixOS modules.
#
# busyboxDir is where ../busybox.nix finds busybox (default /usr/bin); the
# stand-in's flake (../flake.nix) passes its own source.
{ configuration, system ? builtins.currentSystem, busyboxDir ? null }:
let
  imported = if builtins.isPath configuration then import configuration else configuration;
  config = if builtins.isFunction imported then imported { } else imported;
  name = config.networking.hostName or config.name or "nixos";
  tools = import ../busybox.nix { inherit system; dir = busyboxDir; };
in
{
  config.system.build.toplevel = derivation {
    name = "nixos-system-${name}";
    inherit system;
    builder = "${tools}/bin/sh";
    PATH = "${tools}/bin";
    motd = config.motd or "";
    payloadBytes = toString (config.payloadBytes or 0);
    failActivation = if config.failActivation or false then "1" else "";
    breakNetwork = if config.breakNetwork or false then "1" else "";
    activationSeconds = toString (config.activationSeconds or 0);
    switchExitCode = toString (config.switchExitCode or 0);
    args = [ "-c" ''
      set -e
      mkdir -p "$out/bin" "$out/etc"
      printf '%s\n' "$motd" > "$out/etc/motd"
      if [ "$payloadBytes" -gt 0 ]; then head -c "$payloadBytes" /dev/urandom > "$out/payload"; fi
      cat > "$out/bin/switch-to-configuration" <<EOF
      #!/bin/sh
      # switch-to-configuration ACTION, as NixOS's, for this stand-in system:
      # root only, one switch at a time (the lock), and NixOS's exit codes:
      # 100 when the new system needs a reboot (nothing is activated), 2
      # when the activation script fails, 4 when units fail (both after
      # activating). A host file /run/nix-hive-example/failing-unit makes
      # every switch report that unit failed, as an unrelated broken unit
      # would.
      if [ "\$(id -u)" != 0 ]; then echo "switch-to-configuration: must be run as root" >&2; exit 1; fi
      mkdir -p /run/nixos /run/nix-hive-example
      exec 9>>/run/nixos/switch-to-configuration.lock
      flock -n 9 || { echo "Could not acquire lock" >&2; exit 1; }
      echo "\$1 $out" >> /run/nix-hive-example/activations
      code=$switchExitCode
      unit=\$(cat /run/nix-hive-example/failing-unit 2>/dev/null) && code=4
      case "\$1" in switch|test)
        if [ "\$code" = 100 ]; then echo "the new system needs a reboot (its init interface changed)" >&2; exit 100; fi
        echo "activating $out"
        # Like NixOS's network setup: this system's links come up, or (to
        # test automatic rollback) a broken system takes them down.
        state=up; [ -z "$breakNetwork" ] || state=down
        for i in /sys/class/net/*; do [ "\''${i##*/}" = lo ] || ip link set "\''${i##*/}" \$state; done ;;
      esac
      [ "$activationSeconds" -eq 0 ] || sleep "$activationSeconds"
      if [ -n "$failActivation" ]; then echo "activation of $out failed" >&2; exit 1; fi
      case "\$1" in
        switch|test) ln -sfn $out /run/current-system ;;
        boot) ;;
        dry-activate) echo "would restart the following units: nix-hive-example.service (for $out)" ;;
        *) echo "usage: switch-to-configuration switch|boot|test|dry-activate" >&2; exit 1 ;;
      esac
      if [ "\$code" = 2 ]; then echo "error: the activation script of $out failed" >&2; exit 2; fi
      if [ "\$code" = 4 ]; then echo "warning: the following units failed: \''${unit:-nix-hive-example.service}" >&2; exit 4; fi
      EOF
      sed -i 's/^      //' "$out/bin/switch-to-configuration"
      chmod +x "$out/bin/switch-to-configuration"
      ln -s bin/switch-to-configuration "$out/activate"
    '' ];
  };
}
