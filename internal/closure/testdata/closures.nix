# Two small system closures with versioned packages, built in the sandbox
# with the example's busybox, to record real `nix-store --query` output for
# the parser and diff tests (see record.sh).
let
  tools = import ../../../examples/fleet/nixpkgs/busybox.nix { };
  pkg = name: deps: bytes: derivation {
    inherit name;
    system = builtins.currentSystem;
    builder = "${tools}/bin/sh";
    PATH = "${tools}/bin";
    args = [ "-c" "mkdir -p $out; head -c ${toString bytes} /dev/zero > $out/data; echo ${toString deps} > $out/deps" ];
  };
  glibc = pkg "glibc-2.39" [ ] 20000;
  hello-old = pkg "hello-2.10" [ glibc ] 30000;
  hello-new = pkg "hello-2.12" [ glibc ] 42000;
  hello-man = pkg "hello-2.12-man" [ ] 5000;
  oldtool = pkg "oldtool-1.0" [ glibc ] 15000;
  newtool = pkg "newtool-0.5" [ glibc ] 9000;
  etc = motd: pkg "etc" [ ] (1000 + builtins.stringLength motd);
in
{
  before = pkg "nixos-system-web" [ hello-old oldtool (etc "version 1") ] 100;
  after = pkg "nixos-system-web" [ hello-new hello-man newtool (etc "version two") ] 100;
}
