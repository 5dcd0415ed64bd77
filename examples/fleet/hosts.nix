# Where the hosts are. Replace these addresses with your own; the demo
# (scripts/demo, through internal/labfleet) writes its own copy of this
# file with the addresses of the hosts it brings up.
{
  web-1 = "192.0.2.11";
  web-2 = "192.0.2.12";
  db-1 = "192.0.2.21";
  bastion-eu = "198.51.100.1";
  # On the eu site's private network, reachable only through bastion-eu.
  store-eu = "10.20.0.2";
  eu-1 = "10.20.0.11";
  eu-2 = "10.20.0.12";
  eu-3 = "10.20.0.13";
  # The public half of the key closures are signed with (--signing-key):
  # nix-store --generate-binary-cache-key store-eu secret.key public.key
  storePublicKey = "store-eu:5dvNM4cMjcCMoHprEWsWv27cvz9+GjTpJQPD3m5mAmg=";
}
