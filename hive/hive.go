// Package hive carries nix-hive's Nix expressions (config.nix, paths.nix,
// systems.nix, instances.nix, system.nix, lib.nix) inside the binary, and
// writes them out for nix to read.
package hive

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed *.nix
var files embed.FS

// Write copies the Nix expressions into dir (created if needed) and returns
// dir, so that dir/config.nix and dir/system.nix can be evaluated.
func Write(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("write nix-hive's Nix expressions: %w", err)
	}
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return "", fmt.Errorf("write nix-hive's Nix expressions: %w", err)
	}
	for _, e := range entries {
		data, err := files.ReadFile(e.Name())
		if err != nil {
			return "", fmt.Errorf("write nix-hive's Nix expressions: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			return "", fmt.Errorf("write nix-hive's Nix expressions: %w", err)
		}
	}
	return dir, nil
}
