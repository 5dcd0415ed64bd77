package flake

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/process"
)

func TestParse(t *testing.T) {
	root := t.TempDir()
	dir := func(name string, files ...string) string {
		d := filepath.Join(root, name)
		os.MkdirAll(d, 0o755)
		for _, f := range files {
			os.WriteFile(filepath.Join(d, f), []byte("{ }"), 0o644)
		}
		return d
	}
	flakeDir := dir("flake", "flake.nix")
	both := dir("both", "flake.nix", "hive.nix")
	hiveDir := dir("hive", "hive.nix")
	tests := []struct {
		name, arg string
		want      Ref
		ok        bool
		err       string
	}{
		{"directory with flake.nix", flakeDir, Ref{flakeDir, "nixHive"}, true, ""},
		{"explicit attribute", flakeDir + "#hives.prod", Ref{flakeDir, "hives.prod"}, true, ""},
		{"empty attribute", flakeDir + "#", Ref{flakeDir, "nixHive"}, true, ""},
		{"hive.nix beside flake.nix", both, Ref{}, false, ""},
		{"the flake.nix itself", filepath.Join(both, "flake.nix"), Ref{both, "nixHive"}, true, ""},
		{"flake attribute beside hive.nix", both + "#nixHive", Ref{both, "nixHive"}, true, ""},
		{"directory with hive.nix", hiveDir, Ref{}, false, ""},
		{"hive file", filepath.Join(hiveDir, "hive.nix"), Ref{}, false, ""},
		{"missing path", filepath.Join(root, "none"), Ref{}, false, ""},
		{"attribute of a directory without flake.nix", hiveDir + "#nixHive", Ref{}, false, "--hive " + hiveDir + "#nixHive: " + hiveDir + " has no flake.nix; DIR#ATTR names an output of the flake in DIR"},
		{"bad attribute", flakeDir + "#a b", Ref{}, false, `--hive ` + flakeDir + `#a b: "a b" is not an attribute path of the flake's outputs (such as nixHive or hives.prod)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := Parse(tt.arg)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || ok != tt.ok || got != tt.want {
				t.Errorf("Parse(%q) = %+v, %v, %v; want %+v, %v", tt.arg, got, ok, err, tt.want, tt.ok)
			}
		})
	}
}

// TestParseMetadata reads nix flake metadata --json as Nix 2.8 and 2.26
// print it (testdata, recorded from a flake with one input).
func TestParseMetadata(t *testing.T) {
	const narHash = "sha256-iGQZkpWiupNTS0zMhFcomUAGymEvJyKKGxz2xrj8bI4="
	tests := []struct {
		file string
		want Locked
		err  error
	}{
		{"path-2.8.json", Locked{URL: "path:/tmp/wt13-exp/f?lastModified=1795674492&narHash=" + narHash, NarHash: narHash, LastModified: 1795674492}, nil},
		{"path-2.26.json", Locked{URL: "path:/tmp/wt13-exp/f?lastModified=1795674492&narHash=sha256-iGQZkpWiupNTS0zMhFcomUAGymEvJyKKGxz2xrj8bI4%3D", NarHash: narHash, LastModified: 1795674492}, nil},
		{"git-2.8.json", Locked{URL: "git+file:///tmp/wt13-exp/g?ref=master&rev=af46b78718ee651fe633644e5da549f0066daa2b", Rev: "af46b78718ee651fe633644e5da549f0066daa2b", NarHash: narHash}, nil},
		{"git-2.26.json", Locked{URL: "git+file:///tmp/wt13-exp/g?ref=refs/heads/master&rev=2341664559aae033c5cf621f71406b323f12fc0a", Rev: "2341664559aae033c5cf621f71406b323f12fc0a", NarHash: narHash}, nil},
		{"git-dirty-2.8.json", Locked{}, ErrDirty},
		{"git-dirty-2.26.json", Locked{}, ErrDirty},
	}
	ref := Ref{Dir: "/tmp/wt13-exp/f", Attr: "nixHive"}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			out, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, inputs, err := ParseMetadata(ref, out)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("error %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Ref = ref
			if got.LastModified != 0 && tt.want.LastModified == 0 {
				tt.want.LastModified = got.LastModified // a commit's time
			}
			if *got != tt.want || !inputs {
				t.Errorf("got %+v (inputs %v)\nwant %+v", *got, inputs, tt.want)
			}
		})
	}
}

// fakeRunner answers every command with out or err.
type fakeRunner struct {
	out []byte
	err error
}

func (f fakeRunner) Run(context.Context, process.Command) ([]byte, error) { return f.out, f.err }

// TestLockNeedsFlakeLock: a flake with inputs needs a flake.lock; one
// without inputs does not (Nix writes none for it).
func TestLockNeedsFlakeLock(t *testing.T) {
	withInputs, _ := os.ReadFile("testdata/path-2.8.json")
	noInputs := []byte(strings.Replace(string(withInputs), `"inputs":{"nixpkgs":"nixpkgs"}`, `"inputs":{}`, 1))
	failed := &process.CommandError{Args: []string{"nix"}, ExitCode: 1, StderrTail: "error: cannot fetch"}
	tests := []struct {
		name     string
		lockFile bool
		runner   fakeRunner
		err      error
	}{
		{"inputs and flake.lock", true, fakeRunner{out: withInputs}, nil},
		{"inputs without flake.lock", false, fakeRunner{out: withInputs}, ErrNoLock},
		{"no inputs, no flake.lock", false, fakeRunner{out: noInputs}, nil},
		{"nix fails without flake.lock", false, fakeRunner{err: failed}, ErrNoLock},
		{"nix fails with flake.lock", true, fakeRunner{err: failed}, failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.lockFile {
				os.WriteFile(filepath.Join(dir, "flake.lock"), []byte("{}"), 0o644)
			}
			_, err := Lock(context.Background(), tt.runner, Ref{Dir: dir, Attr: DefaultAttr})
			if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Errorf("error %v, want %v", err, tt.err)
			}
		})
	}
}
