package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/testenv"
)

// flakeHive is a hive from a flake without inputs; its configurations
// throw, so any evaluation of one fails loudly.
const flakeHive = `{
  outputs = { self }: {
    nixHive = {
      systems.web = { configuration = throw "the web configuration was evaluated"; tags = [ "frontend" ]; };
      systems.db = { nixosConfiguration = throw "the db configuration was evaluated"; system = "aarch64-linux"; };
      instances.web-1 = { system = "web"; ssh = { HostName = "192.0.2.11"; User = "root"; }; };
      instances.db-1 = { system = "db"; ssh = { HostName = "192.0.2.21"; }; environment = "staging"; };
    };
  };
}
`

// gone is an input whose source does not exist, pinned in a flake.lock
// written by hand.
const (
	goneFlake = `{
  inputs.gone = { url = "path:/nonexistent/nix-hive-gone"; flake = false; };
  outputs = { self, gone }: { nixHive = { }; };
}
`
	goneLock = `{"nodes":{"gone":{"flake":false,"locked":{"lastModified":1,"narHash":"sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=","path":"/nonexistent/nix-hive-gone","type":"path"},"original":{"path":"/nonexistent/nix-hive-gone","type":"path"}},"root":{"inputs":{"gone":"gone"}}},"root":"root","version":7}`
)

// writeFlake writes files into a new directory and returns it.
func writeFlake(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// git runs git in dir.
func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=nix-hive test", "-c", "user.email=test@nix-hive.invalid", "-c", "init.defaultBranch=main"}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestFlakeInventoryEvaluatesNoConfiguration: the inventory of a hive from
// a flake comes from the flake's output alone; configurations that throw do
// not stop it.
func TestFlakeInventoryEvaluatesNoConfiguration(t *testing.T) {
	testenv.RequireTools(t, "nix", "nix-instantiate", "ssh")
	dir := writeFlake(t, map[string]string{"flake.nix": flakeHive})
	for _, hive := range []string{dir, dir + "#nixHive"} {
		var stdout, stderr bytes.Buffer
		if err := Run(context.Background(), []string{"inventory", "--hive", hive}, []string{"NIX_CONFIG=substituters ="}, &stdout, &stderr); err != nil {
			t.Fatalf("inventory --hive %s: %v\n%s", hive, err, stderr.String())
		}
		var inv struct {
			Flake   struct{ Dir, Attr, URL, NarHash string }
			Paths   []string
			Systems map[string]struct {
				Path   []string
				System string
				Tags   []string
			}
			Instances map[string]struct{ System, Environment string }
		}
		if err := json.Unmarshal(stdout.Bytes(), &inv); err != nil {
			t.Fatalf("inventory JSON: %v\n%s", err, stdout.String())
		}
		if inv.Flake.Dir != dir || inv.Flake.Attr != "nixHive" || !strings.HasPrefix(inv.Flake.URL, "path:"+dir+"?") || !strings.HasPrefix(inv.Flake.NarHash, "sha256-") {
			t.Errorf("flake = %+v", inv.Flake)
		}
		if len(inv.Paths) != 0 || len(inv.Systems["web"].Path) != 0 {
			t.Errorf("a hive from a flake has include paths: %v, web %v", inv.Paths, inv.Systems["web"].Path)
		}
		if web, db := inv.Systems["web"], inv.Systems["db"]; !strings.HasSuffix(web.System, "-linux") || !slices.Equal(web.Tags, []string{"frontend"}) || db.System != "aarch64-linux" {
			t.Errorf("systems = %+v", inv.Systems)
		}
		if inv.Instances["db-1"].System != "db" || inv.Instances["db-1"].Environment != "staging" || inv.Instances["web-1"].System != "web" {
			t.Errorf("instances = %+v", inv.Instances)
		}
	}
}

// TestFlakeBadInput: what makes a deployment from a flake unreproducible
// or impossible is an error with this exact message, before any host is
// touched.
func TestFlakeBadInput(t *testing.T) {
	testenv.RequireTools(t, "nix", "nix-instantiate", "ssh", "git")
	noPaths := "include paths do not apply to a hive from a flake: it is evaluated purely, with nothing from -I or NIX_PATH; " +
		"take nixpkgs and other sources from the flake's inputs (inputs.nixpkgs.url = ...; locked in flake.lock) and remove this attribute"
	tests := []struct {
		name string
		// setup makes the flake and returns --hive's argument.
		setup func(t *testing.T) string
		// want returns the messages the error may be, one per Nix version
		// where Nix's own words differ.
		want func(dir string) []string
	}{
		{"missing flake.lock", func(t *testing.T) string {
			return writeFlake(t, map[string]string{"flake.nix": strings.Replace(goneFlake, "/nonexistent/nix-hive-gone", t.TempDir(), 1)})
		}, func(dir string) []string {
			return []string{dir + ": no flake.lock: a hive from a flake is evaluated with the inputs flake.lock pins; run `nix flake lock " + dir + "` and commit flake.lock"}
		}},
		{"dirty git tree", func(t *testing.T) string {
			dir := writeFlake(t, map[string]string{"flake.nix": flakeHive})
			git(t, dir, "init", "-q")
			git(t, dir, "add", "flake.nix")
			git(t, dir, "commit", "-q", "-m", "fleet")
			os.WriteFile(filepath.Join(dir, "flake.nix"), []byte(flakeHive+"# changed, not committed\n"), 0o644)
			return dir
		}, func(dir string) []string {
			return []string{dir + ": the git tree is dirty (uncommitted changes): a deployment from a flake names the revision it deploys; commit the changes (git status lists them) and run nix-hive again"}
		}},
		{"input that cannot be fetched", func(t *testing.T) string {
			return writeFlake(t, map[string]string{"flake.nix": goneFlake, "flake.lock": goneLock})
		}, func(dir string) []string {
			const prefix, suffix = ": an input of the flake cannot be fetched: ", "; check the input's url in flake.nix and its entry in flake.lock (nix flake update refreshes it), and the network"
			return []string{
				"no host was touched: " + dir + prefix + "getting status of '/nonexistent/nix-hive-gone': No such file or directory" + suffix, // Nix 2.8
				"no host was touched: " + dir + prefix + "path '//nonexistent/nix-hive-gone' does not exist" + suffix,                         // Nix 2.26
			}
		}},
		{"paths in a flake hive", func(t *testing.T) string {
			return writeFlake(t, map[string]string{"flake.nix": strings.Replace(flakeHive, "systems.web =", `paths = [ "nixpkgs=/nix-hive-test/nixpkgs" ]; systems.web =`, 1)})
		}, func(dir string) []string {
			return []string{"evaluate " + dir + "/flake.nix#nixHive:\nerror: flake.nix#nixHive: paths: " + noPaths}
		}},
		{"a system's path in a flake hive", func(t *testing.T) string {
			return writeFlake(t, map[string]string{"flake.nix": strings.Replace(flakeHive, `tags = [ "frontend" ];`, `tags = [ "frontend" ]; path = [ ./. ];`, 1)})
		}, func(dir string) []string {
			return []string{"evaluate " + dir + "/flake.nix#nixHive:\nerror: flake.nix#nixHive: systems.web.path: " + noPaths}
		}},
		{"missing output", func(t *testing.T) string {
			return writeFlake(t, map[string]string{"flake.nix": flakeHive}) + "#hives.prod"
		}, func(dir string) []string {
			dir = strings.TrimSuffix(dir, "#hives.prod")
			return []string{"evaluate " + dir + "/flake.nix#hives.prod:\nerror: flake.nix#hives.prod: the flake has no output hives.prod; define outputs.hives.prod with the hive (the shape of hive.nix, see the README), or name another output with --hive DIR#ATTR"}
		}},
		{"both configurations", func(t *testing.T) string {
			return writeFlake(t, map[string]string{"flake.nix": strings.Replace(flakeHive, `system = "aarch64-linux";`, `system = "aarch64-linux"; configuration = { };`, 1)})
		}, func(dir string) []string {
			return []string{"evaluate " + dir + "/flake.nix#nixHive:\nerror: flake.nix#nixHive: systems.db: give either configuration (a NixOS module) or nixosConfiguration (an evaluated NixOS configuration), not both"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hive := tt.setup(t)
			env, touched := touchGuard(t)
			var stdout, stderr bytes.Buffer
			err := Run(context.Background(), []string{"deploy", "--hive", hive}, env, &stdout, &stderr)
			if err == nil {
				t.Fatal("bad input was accepted")
			}
			if want := tt.want(hive); !slices.Contains(want, err.Error()) {
				t.Errorf("error:\n%s\nwant one of:\n%s", err, strings.Join(want, "\n"))
			}
			if code := ExitCode(err); code == 0 {
				t.Errorf("exit code 0")
			}
			if data, err := os.ReadFile(touched); err == nil {
				t.Errorf("a host was touched:\n%s", data)
			}
		})
	}
}
