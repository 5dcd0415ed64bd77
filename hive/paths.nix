# Step 1: the include paths every system is built with. The first entry is
# always deployment=<the deployment directory>. A hive from a flake has none:
# its evaluation is pure, so its sources come from the flake's inputs.
{ lib, hive, deployment, flake ? null }:
if flake != null then
  (if hive ? paths then lib.fail "paths" lib.flakeNoPaths else [ ])
else
  [ "deployment=${deployment}" ]
  ++ lib.includePaths "paths" (hive.paths or [ ])
