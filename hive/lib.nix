# Helpers shared by the hive/*.nix files: type checks that fail with a
# message naming the file and the attribute path, so that a typo in hive.nix
# is reported as "hive.nix: instances.web-1.system: ..." and not as a Nix
# stack trace.
{ file }:
let
  inherit (builtins) typeOf isAttrs isList isString isBool isInt isPath isFunction all attrNames
    concatStringsSep match length elemAt filter genList;

  describe = v:
    let t = typeOf v; in
    if t == "int" then "an integer"
    else if t == "set" then "an attribute set"
    else if t == "lambda" then "a function"
    else if t == "list" then "a list"
    else if t == "bool" then "a boolean"
    else if t == "null" then "null"
    else if t == "path" then "a path"
    else if t == "float" then "a float"
    else "a ${t}";
in
rec {
  # fail where: abort the evaluation with "FILE: WHERE: MESSAGE".
  fail = where: msg: throw "${file}: ${where}: ${msg}";

  # A name usable as an instance, system, store or ssh host name.
  validName = n: match "[A-Za-z0-9][A-Za-z0-9._-]*" n != null;

  checkName = what: n:
    if validName n then n
    else fail "${what}.\"${n}\"" "the name must match [A-Za-z0-9][A-Za-z0-9._-]* (letters, digits, '.', '_', '-'); rename it";

  attrs = where: v:
    if isAttrs v then v else fail where "expected an attribute set, got ${describe v}";

  optAttrs = where: v: if v == null then { } else attrs where v;

  string = where: v:
    if isString v then v else fail where "expected a string, got ${describe v}";

  optString = where: v: if v == null then null else string where v;

  # A list of strings; element errors name their index.
  strings = where: v:
    if !isList v then fail where "expected a list of strings, got ${describe v}"
    else genList (i: string "${where}.${toString i}" (elemAt v i)) (length v);

  # An include path entry: "prefix=path", a path, or a string path.
  includePath = where: v:
    if isPath v then toString v
    else if isString v then v
    else fail where "expected a string (\"prefix=path\") or a path, got ${describe v}";

  includePaths = where: v:
    if !isList v then fail where "expected a list of include paths, got ${describe v}"
    else genList (i: includePath "${where}.${toString i}" (elemAt v i)) (length v);

  # A nix.conf value as Nix reads it from the command line.
  confValue = where: v:
    if isString v then v
    else if isBool v then (if v then "true" else "false")
    else if isInt v then toString v
    else if isList v then concatStringsSep " " (strings where v)
    else fail where "expected a string, integer, boolean or list of strings, got ${describe v}";

  # An ssh_config value: strings, integers, and booleans as yes/no.
  sshValue = where: v:
    let s =
      if isString v then v
      else if isBool v then (if v then "yes" else "no")
      else if isInt v then toString v
      else fail where "expected a string, integer or boolean, got ${describe v}";
    in
    if match "[^\n\r\"]*" s == null then fail where "the value must not contain a newline or a double quote"
    else if s == "" then fail where "the value must not be empty"
    else s;

  sshKey = where: k:
    if match "[A-Za-z][A-Za-z0-9]*" k != null then k
    else fail where "\"${k}\" is not an ssh_config keyword (see man ssh_config)";

  # Only the listed attributes are allowed, so a typo is an error and not a
  # silently ignored setting.
  onlyKeys = where: allowed: set:
    let unknown = filter (k: !(builtins.elem k allowed)) (attrNames set); in
    if unknown == [ ] then set
    else fail "${where}.${elemAt unknown 0}" "unknown attribute; expected one of: ${concatStringsSep ", " allowed}";

  # Why a hive from a flake has no include paths (paths, systems.*.path).
  flakeNoPaths = "include paths do not apply to a hive from a flake: it is evaluated purely, "
    + "with nothing from -I or NIX_PATH; take nixpkgs and other sources from the flake's inputs "
    + "(inputs.nixpkgs.url = ...; locked in flake.lock) and remove this attribute";

  inherit describe;
}
