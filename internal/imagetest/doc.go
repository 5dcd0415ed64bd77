// Package imagetest runs the action's container image the way GitHub runs a
// container action, against a lab of real hosts and the fake GitHub: the
// image's root (podman image mount) under a writable layer, entered through
// a private mount namespace whose root is that directory (pivot_root), with
// the workspace at /github/workspace, HOME=/github/home, the file commands
// under /github/file_commands, the event at /github/workflow/event.json and
// the INPUT_* variables, hyphens kept. A full OCI run needs cgroups, which
// the project's CI machine does not have; the network namespace is the
// runner's, as with docker's host network.
//
// Its tests build only with the imagetest tag, so that `go test ./...` does
// not run them; scripts/test-image builds the image and runs them:
//
//	NIX_HIVE_IMAGE=localhost/nix-hive-action:test go test -tags imagetest ./internal/imagetest
package imagetest
