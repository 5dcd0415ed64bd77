package inventory

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestUnpinned(t *testing.T) {
	// withNixpkgs holds a nixpkgs directory, as a channels directory does;
	// empty holds nothing.
	withNixpkgs, empty := t.TempDir(), t.TempDir()
	if err := os.Mkdir(filepath.Join(withNixpkgs, "nixpkgs"), 0o755); err != nil {
		t.Fatal(err)
	}
	deployment := "deployment=/srv/fleet"
	inv := func(paths []string, systems map[string][]string) *Inventory {
		inv := &Inventory{File: "/srv/fleet/hive.nix", Paths: paths, Systems: map[string]System{}}
		for name, path := range systems {
			inv.Systems[name] = System{Path: path}
		}
		return inv
	}
	shared := []string{deployment}
	tests := []struct {
		name    string
		inv     *Inventory
		nixPath string
		want    []string // one substring per expected error, in order; none for nil
	}{
		{
			name: "nixpkgs= in paths",
			inv:  inv([]string{deployment, "nixpkgs=/srv/pins/nixpkgs"}, map[string][]string{"web": {deployment, "nixpkgs=/srv/pins/nixpkgs"}}),
		},
		{
			name: "a URL and a channel count as an explicit choice",
			inv: inv(shared, map[string][]string{
				"web": {deployment, "nixpkgs=https://github.com/NixOS/nixpkgs/archive/0123abc.tar.gz"},
				"db":  {deployment, "nixpkgs=channel:nixos-24.11"},
			}),
		},
		{
			name: "nixpkgs/nixos= resolves <nixpkgs/nixos> too",
			inv:  inv(shared, map[string][]string{"web": {deployment, "nixpkgs/nixos=/srv/nixos"}}),
		},
		{
			name: "a plain directory holding nixpkgs",
			inv:  inv(shared, map[string][]string{"web": {deployment, withNixpkgs}}),
		},
		{
			name:    "NIX_PATH provides it",
			inv:     inv(shared, map[string][]string{"web": shared}),
			nixPath: "/root/.nix-defexpr/channels:nixpkgs=https://example.org/nixpkgs.tar.gz",
		},
		{
			name:    "a plain NIX_PATH directory holding nixpkgs",
			inv:     inv(shared, map[string][]string{"web": shared}),
			nixPath: empty + ":" + withNixpkgs,
		},
		{
			name: "unpinned, NIX_PATH empty: each system, sorted, saying how to pin",
			inv:  inv(shared, map[string][]string{"web": shared, "db": shared, "edge": {deployment, "nixpkgs=/srv/nixpkgs"}}),
			want: []string{
				`hive.nix: systems.db.path: <nixpkgs> is not pinned: no include path provides it and NIX_PATH is empty; ` +
					`pin a nixpkgs with an entry such as "nixpkgs=${fetchTarball {`,
				`hive.nix: systems.web.path: <nixpkgs> is not pinned: no include path provides it and NIX_PATH is empty; ` +
					`pin a nixpkgs with an entry such as "nixpkgs=${fetchTarball { url = "https://github.com/NixOS/nixpkgs/archive/COMMIT.tar.gz"; sha256 = "..."; }}" ` +
					`or "nixpkgs=${toString ./nixpkgs}": add it to paths in hive.nix (or to systems.web.path)`,
			},
		},
		{
			name: "a system with its own path is told to fix that path",
			inv:  inv([]string{deployment, "nixpkgs=/srv/nixpkgs"}, map[string][]string{"edge": {deployment, "site=/srv/site"}}),
			want: []string{`hive.nix: systems.edge.path: <nixpkgs> is not pinned: `, `: add it to systems.edge.path, which replaces paths for this system`},
		},
		{
			name:    "NIX_PATH without nixpkgs, a directory without it, a prefix that only looks alike",
			inv:     inv(shared, map[string][]string{"web": {deployment, empty, "nixpkgs-unstable=/srv/u", "relative/dir"}}),
			nixPath: "site=/srv/site:" + empty,
			want:    []string{`systems.web.path: <nixpkgs> is not pinned: no include path provides it and NIX_PATH has no nixpkgs either;`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Unpinned(tt.inv, tt.nixPath)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Unpinned = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrUnpinned) {
				t.Fatalf("Unpinned = %v, want an ErrUnpinned", err)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.inv.Systems)-countPinned(tt.inv) {
				t.Errorf("%d errors, want one per unpinned system:\n%v", len(lines), err)
			}
			rest := err.Error()
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("error lacks %q (in order):\n%v", w, err)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

// countPinned counts the systems with a nixpkgs= entry of their own.
func countPinned(inv *Inventory) int {
	n := 0
	for _, s := range inv.Systems {
		for _, p := range s.Path {
			if strings.HasPrefix(p, "nixpkgs=") {
				n++
				break
			}
		}
	}
	return n
}

func TestSplitNixPath(t *testing.T) {
	for in, want := range map[string][]string{
		"":                               nil,
		"/a:/b":                          {"/a", "/b"},
		"nixpkgs=/a::/b:":                {"nixpkgs=/a", "/b"},
		"nixpkgs=https://x.org/n.tgz:/b": {"nixpkgs=https://x.org/n.tgz", "/b"},
		"nixpkgs=channel:nixos-24.11:/b": {"nixpkgs=channel:nixos-24.11", "/b"},
		"flake:nixpkgs:/srv/channel":     {"flake:nixpkgs", "/srv/channel"},
	} {
		if got := SplitNixPath(in); (len(got) != 0 || len(want) != 0) && !reflect.DeepEqual(got, want) {
			t.Errorf("SplitNixPath(%q) = %q, want %q", in, got, want)
		}
	}
}
