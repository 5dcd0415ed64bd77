# An example fleet: two web servers and a database reached directly, and
# three edge hosts on a private site network behind a bastion, which pull
# their system from a store on that site. Every field is explained in the
# README ("hive.nix reference").
let
  hosts = import ./hosts.nix;
  # Instances on the eu site are reached through its bastion.
  onSite = address: { HostName = address; User = "root"; ProxyJump = "bastion-eu"; };
in
{
  # Include paths for every system: <nixpkgs> is this example's offline
  # stand-in; a real fleet pins a nixpkgs here.
  paths = [ "nixpkgs=${toString ./nixpkgs}" ];

  systems = {
    web = { configuration = ./systems/web.nix; tags = [ "frontend" ]; };
    db = { configuration = ./systems/db.nix; nix = { cores = 1; }; tags = [ "backend" ]; };
    edge = {
      configuration = ./systems/edge.nix;
      # Replaces `paths` for this system only.
      path = [ "nixpkgs=${toString ./nixpkgs}" "site=${toString ./site}" ];
      tags = [ "edge" ];
    };
  };

  # The eu site's store: nix-hive pushes each closure there once (through
  # the bastion, as root), signs it there, and the eu instances substitute
  # from it over the site network through the store's read-only nix-ssh
  # login (NixOS's nix.sshServe), checking its signature.
  stores.eu = {
    url = "ssh-ng://store-eu";
    substituter = "ssh://nix-ssh@${hosts.store-eu}";
    publicKey = hosts.storePublicKey;
  };

  sshHosts = {
    bastion-eu = { HostName = hosts.bastion-eu; User = "root"; };
    store-eu = onSite hosts.store-eu;
  };

  instances = {
    web-1 = { system = "web"; ssh = { HostName = hosts.web-1; User = "root"; }; url = "http://web-1.example.org"; };
    web-2 = { system = "web"; ssh = { HostName = hosts.web-2; User = "root"; }; url = "http://web-2.example.org"; };
    db-1 = { system = "db"; ssh = { HostName = hosts.db-1; User = "root"; }; environment = "staging"; };
    eu-1 = { system = "edge"; store = "eu"; tags = [ "eu" ]; ssh = onSite hosts.eu-1; };
    eu-2 = { system = "edge"; store = "eu"; tags = [ "eu" ]; ssh = onSite hosts.eu-2; };
    eu-3 = { system = "edge"; store = "eu"; tags = [ "eu" "canary" ]; ssh = onSite hosts.eu-3; };
  };
}
