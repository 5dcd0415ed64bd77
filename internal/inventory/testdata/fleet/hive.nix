# A fleet of 3 systems and 6 instances, a store and a bastion. No system
# configuration may be evaluated while the inventory is computed: each one
# throws.
let
  never = name: throw "the configuration of ${name} was evaluated";
in
{
  paths = [ "nixpkgs=${toString ./pins/nixpkgs}" ];
  systems = {
    web = { configuration = never "web"; tags = [ "frontend" ]; };
    db = { configuration = never "db"; path = [ "nixpkgs=${toString ./pins/nixpkgs}" ./pins ]; nix = { cores = 4; substitute = false; }; };
    arm = { configuration = never "arm"; system = "aarch64-linux"; tags = [ "edge" ]; };
  };
  stores.eu = {
    url = "ssh-ng://cache-eu";
    substituter = "ssh://10.0.0.5";
    publicKey = "cache-eu:dGVzdGtleXRlc3RrZXl0ZXN0a2V5dGVzdGtleXRlc3Q=";
  };
  sshHosts.bastion = { HostName = "203.0.113.7"; User = "jump"; };
  sshHosts.cache-eu = { HostName = "10.0.0.5"; User = "root"; ProxyJump = "bastion"; };
  instances = {
    web-1 = { system = "web"; store = "eu"; tags = [ "eu" ]; ssh = { HostName = "10.0.0.11"; User = "root"; ProxyJump = "bastion"; }; url = "https://web-1.example.com"; };
    web-2 = { system = "web"; store = "eu"; tags = [ "eu" ]; ssh = { HostName = "10.0.0.12"; User = "root"; ProxyJump = "bastion"; }; };
    web-3 = { system = "web"; tags = [ "us" ]; ssh = { HostName = "198.51.100.3"; Port = 2222; }; };
    db-1 = { system = "db"; environment = "staging"; ssh.HostName = "198.51.100.4"; };
    edge-1 = { system = "arm"; ssh.HostName = "198.51.100.5"; };
    edge-2 = { system = "arm"; tags = [ "canary" ]; ssh = { HostName = "198.51.100.6"; Compression = true; }; };
  };
}
