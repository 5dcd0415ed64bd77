# The discover sources: machines nix-hive reads from the infrastructure (EC2,
# a Terraform state) and deploys like instances. Only their shape is checked
# here, with attribute paths; nix-hive checks the values and reads the
# sources (internal/discover). Absent optional fields are null and get their
# defaults there.
{ lib, hive, deployment }:
let
  inherit (builtins) isPath isString substring mapAttrs;

  sourcesRaw = lib.attrs "discover" (hive.discover or { });

  ec2 = where: raw:
    let
      e = lib.onlyKeys where [ "region" "filters" ] (lib.attrs where raw);
      filters = lib.attrs "${where}.filters" (e.filters or { });
    in
    {
      region = lib.string "${where}.region" (e.region or (lib.fail "${where}.region" "missing; set it to the AWS region, e.g. \"eu-west-1\""));
      filters = mapAttrs (k: v: lib.strings "${where}.filters.\"${k}\"" v) filters;
    };

  # A path, or a string taken relative to the deployment directory; always
  # an absolute path string, and never copied to the store.
  statePath = where: v:
    if isPath v then toString v
    else if isString v then (if substring 0 1 v == "/" then v else "${deployment}/${v}")
    else lib.fail where "expected a path (./terraform.tfstate) or a string, got ${lib.describe v}";

  terraform = where: raw:
    let t = lib.onlyKeys where [ "state" ] (lib.attrs where raw); in
    {
      state = statePath "${where}.state" (t.state or (lib.fail "${where}.state" "missing; set it to the state file, e.g. ./terraform.tfstate"));
    };

  one = name: raw:
    let
      where = "discover.${lib.checkName "discover" name}";
      s = lib.onlyKeys where [ "ec2" "terraform" "tagPrefix" "address" "name" "ssh" ] (lib.attrs where raw);
      opt = key: f: if (s.${key} or null) == null then null else f "${where}.${key}" s.${key};
    in
    builtins.seq where {
      ec2 = opt "ec2" ec2;
      terraform = opt "terraform" terraform;
      tagPrefix = opt "tagPrefix" lib.string;
      address = opt "address" lib.string;
      name = opt "name" lib.string;
      ssh = mapAttrs (k: v: lib.sshValue "${where}.ssh.${lib.sshKey "${where}.ssh" k}" v) (lib.optAttrs "${where}.ssh" (s.ssh or null));
    };
in
mapAttrs one sourcesRaw
