# How a deployment rolls out: the waves (`rollout`), each system's health
# checks (`systems.<name>.healthChecks`) and the keys uploaded to the hosts
# (`systems.<name>.keys`, `instances.<name>.keys`). Only the shape is
# checked here, with attribute paths; nix-hive checks the values (user and
# group names, modes, directories) and resolves the keys' sources before
# any host is touched. A key's content never passes through Nix: `file` is
# a path on the runner kept as a string (never copied to the store),
# `command` a program run on the runner, `env` a variable's name.
{ lib, hive, deployment }:
let
  inherit (builtins) isPath isString isInt isBool substring mapAttrs;

  int = where: v: if isInt v then v else lib.fail where "expected an integer, got ${lib.describe v}";
  bool = where: v: if isBool v then v else lib.fail where "expected a boolean, got ${lib.describe v}";
  opt = set: key: f: where: if (set.${key} or null) == null then null else f "${where}.${key}" set.${key};

  # A file on the runner: a path, or a string relative to the deployment
  # directory; an absolute path string either way, never copied to the store.
  runnerFile = where: v:
    if isPath v then toString v
    else if isString v then (if substring 0 1 v == "/" then v else "${deployment}/${v}")
    else lib.fail where "expected a path or a string, got ${lib.describe v}";

  rolloutRaw = lib.optAttrs "rollout" (hive.rollout or null);
  r = lib.onlyKeys "rollout" [ "waves" "batch" "rollbackWave" ] rolloutRaw;
  rollout = {
    waves = lib.strings "rollout.waves" (r.waves or [ ]);
    batch = opt r "batch" (where: v: if isInt v then toString v else lib.string where v) "rollout";
    rollbackWave = bool "rollout.rollbackWave" (r.rollbackWave or false);
  };

  http = where: raw:
    let h = lib.onlyKeys where [ "host" "port" "path" "status" ] (lib.attrs where raw); in
    {
      host = lib.string "${where}.host" (h.host or "localhost");
      port = int "${where}.port" (h.port or (lib.fail "${where}.port" "missing; set it to the port the service listens on, e.g. 80"));
      path = lib.string "${where}.path" (h.path or "/");
      status = int "${where}.status" (h.status or 200);
    };

  check = where: raw:
    let
      c = lib.onlyKeys where [ "command" "http" "retries" "period" "timeout" ] (lib.attrs where raw);
    in
    if (c ? command) == (c ? http) then lib.fail where "set exactly one of command (a list: the program and its arguments, run on the host) or http"
    else {
      command = opt c "command" lib.strings where;
      http = opt c "http" http where;
      retries = int "${where}.retries" (c.retries or 3);
      period = int "${where}.period" (c.period or 2);
      timeout = int "${where}.timeout" (c.timeout or 10);
    };

  key = where: raw:
    let
      k = lib.onlyKeys where [ "file" "command" "env" "destDir" "user" "group" "permissions" "uploadAt" ] (lib.attrs where raw);
      sources = builtins.filter (s: k ? ${s}) [ "file" "command" "env" ];
    in
    if builtins.length sources != 1 then lib.fail where "set exactly one of file (a file on the runner), command (a list: a program run on the runner that prints the key) or env (an environment variable of the runner)"
    else {
      file = opt k "file" runnerFile where;
      command = opt k "command" lib.strings where;
      env = opt k "env" lib.string where;
      destDir = lib.string "${where}.destDir" (k.destDir or "/run/keys");
      user = lib.string "${where}.user" (k.user or "root");
      group = lib.string "${where}.group" (k.group or "root");
      permissions = lib.string "${where}.permissions" (k.permissions or "0600");
      uploadAt = lib.string "${where}.uploadAt" (k.uploadAt or "pre-activation");
    };

  named = where: f: set: mapAttrs (n: v: builtins.seq (lib.checkName where n) (f "${where}.${n}" v)) (lib.optAttrs where set);
  perEntry = kind: attr: f:
    mapAttrs (n: raw: named "${kind}.${n}.${attr}" f ((lib.attrs "${kind}.${n}" raw).${attr} or null))
      (lib.attrs kind (hive.${kind} or { }));
in
{
  inherit rollout;
  healthChecks = perEntry "systems" "healthChecks" check;
  keys = {
    systems = perEntry "systems" "keys" key;
    instances = perEntry "instances" "keys" key;
  };
}
