# Step 1: the include paths every system is built with. The first entry is
# always deployment=<the deployment directory>.
{ lib, hive, deployment }:
[ "deployment=${deployment}" ]
++ lib.includePaths "paths" (hive.paths or [ ])
