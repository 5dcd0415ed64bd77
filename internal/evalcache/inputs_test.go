package evalcache

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/nix-hive/nix-hive/internal/flake"
	"github.com/nix-hive/nix-hive/internal/inventory"
	"github.com/nix-hive/nix-hive/internal/process/processtest"
)

// TestInputsKey checks which changes give the run another key: each case
// changes one input of the same hive and says whether the key changes.
func TestInputsKey(t *testing.T) {
	tests := []struct {
		name    string
		change  func(t *testing.T, dir string, in *Inputs)
		version string
		same    bool
	}{
		{"nothing", func(*testing.T, string, *Inputs) {}, "", true},
		{"a file of the hive", func(t *testing.T, dir string, _ *Inputs) { write(t, dir, "hive/systems/web.nix", "{ }:{ x = 2; }") }, "", false},
		{"a new file of the hive", func(t *testing.T, dir string, _ *Inputs) { write(t, dir, "hive/site/motd", "hello") }, "", false},
		{"git's own files", func(t *testing.T, dir string, _ *Inputs) { write(t, dir, "hive/.git/index", "x") }, "", true},
		{"an include path's file", func(t *testing.T, dir string, _ *Inputs) { write(t, dir, "pins/nixpkgs/default.nix", "2") }, "", false},
		{"nix-hive's expressions", func(t *testing.T, dir string, _ *Inputs) { write(t, dir, "exprs/system.nix", "2") }, "", false},
		{"NIX_CONFIG", func(_ *testing.T, _ string, in *Inputs) { in.Environ = append(in.Environ, "NIX_CONFIG=cores = 3") }, "", false},
		{"an unrelated variable", func(_ *testing.T, _ string, in *Inputs) { in.Environ = append(in.Environ, "TERM=xterm") }, "", true},
		{"nix.conf", func(t *testing.T, dir string, _ *Inputs) { write(t, dir, "nix.conf", "sandbox = false") }, "", false},
		{"nix's version", func(*testing.T, string, *Inputs) {}, "nix-instantiate (Nix) 2.18.1\n", false},
		{"a flake's lock", func(_ *testing.T, _ string, in *Inputs) {
			in.Inventory.Flake = &flake.Locked{URL: "path:/x?narHash=sha256-B"}
		}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, "hive/hive.nix", "{ }")
			write(t, dir, "hive/systems/web.nix", "{ }:{ x = 1; }")
			write(t, dir, "pins/nixpkgs/default.nix", "1")
			write(t, dir, "exprs/system.nix", "1")
			write(t, dir, "nix.conf", "sandbox = true")
			key := func(in Inputs, version string) string {
				f := processtest.New(t)
				f.Expect([]string{"nix-instantiate", "--version"}, version, nil)
				k, err := InputsKey(context.Background(), f, in)
				if err != nil {
					t.Fatal(err)
				}
				return k
			}
			in := func() Inputs {
				return Inputs{ExprDir: filepath.Join(dir, "exprs"), NixConf: filepath.Join(dir, "nix.conf"), Environ: []string{"NIX_PATH="},
					Inventory: &inventory.Inventory{File: filepath.Join(dir, "hive/hive.nix"),
						Paths: []string{"deployment=" + filepath.Join(dir, "hive"), "nixpkgs=" + filepath.Join(dir, "pins/nixpkgs"), "/nix/store/x-src"}}}
			}
			before := key(in(), "nix-instantiate (Nix) 2.8.0\n")
			changed := in()
			tt.change(t, dir, &changed)
			version := tt.version
			if version == "" {
				version = "nix-instantiate (Nix) 2.8.0\n"
			}
			if after := key(changed, version); (after == before) != tt.same {
				t.Errorf("key changed: %v, want %v", after != before, !tt.same)
			}
		})
	}
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
