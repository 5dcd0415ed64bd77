# The flake a hive comes from, and the hive: the flake's output `attr`
# ("nixHive", or a dotted path such as "hives.prod"). `url` is the flake's
# locked reference (from nix flake metadata), so builtins.getFlake accepts
# it in pure evaluation and every input comes from flake.lock.
{ url, attr }:
let
  flake = builtins.getFlake url;
  file = "flake.nix#${attr}";
  find = set: names:
    if names == [ ] then set
    else if builtins.isAttrs set && set ? ${builtins.head names} then find set.${builtins.head names} (builtins.tail names)
    else throw "${file}: the flake has no output ${attr}; define outputs.${attr} with the hive (the shape of hive.nix, see the README), or name another output with --hive DIR#ATTR";
  names = builtins.filter builtins.isString (builtins.split "\\." attr);
in
{
  inherit flake file;
  hive = find flake names;
}
