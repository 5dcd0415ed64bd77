# The database server's configuration.
{
  networking.hostName = "db";
  motd = "database server, deployed by nix-hive";
}
