package inventory

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/hive"
	"github.com/nix-hive/nix-hive/internal/discover"
	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/testenv"
)

func load(t *testing.T, hiveFile string) (*Inventory, error) {
	t.Helper()
	testenv.RequireTools(t, "nix-instantiate")
	exprs, err := hive.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return Load(context.Background(), &process.Exec{}, exprs, hiveFile, discover.Readers{})
}

func TestLoadFleet(t *testing.T) {
	dir, _ := filepath.Abs("testdata/fleet")
	inv, err := load(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"deployment=" + dir, "nixpkgs=" + dir + "/pins/nixpkgs"}; !reflect.DeepEqual(inv.Paths, want) {
		t.Errorf("paths = %v, want %v", inv.Paths, want)
	}
	if got := inv.InstanceNames(); strings.Join(got, " ") != "db-1 edge-1 edge-2 web-1 web-2 web-3" {
		t.Errorf("instances = %v", got)
	}
	db := inv.Systems["db"]
	if want := []string{"deployment=" + dir, "nixpkgs=" + dir + "/pins/nixpkgs", dir + "/pins"}; !reflect.DeepEqual(db.Path, want) {
		t.Errorf("systems.db.path = %v, want %v", db.Path, want)
	}
	if want := map[string]string{"cores": "4", "substitute": "false"}; !reflect.DeepEqual(db.Nix, want) {
		t.Errorf("systems.db.nix = %v, want %v", db.Nix, want)
	}
	if inv.Systems["arm"].System != "aarch64-linux" || !strings.HasSuffix(inv.Systems["web"].System, "-linux") {
		t.Errorf("platforms: arm %q web %q", inv.Systems["arm"].System, inv.Systems["web"].System)
	}
	if got := inv.Stores["eu"]; got.URL != "ssh-ng://cache-eu" || got.Substituter != "ssh://10.0.0.5" || !strings.HasPrefix(got.PublicKey, "cache-eu:") {
		t.Errorf("stores.eu = %+v", got)
	}
	web1 := inv.Instances["web-1"]
	if web1.System != "web" || web1.Store != "eu" || web1.Environment != "production" || web1.URL != "https://web-1.example.com" || web1.SSH["ProxyJump"] != "bastion" {
		t.Errorf("instances.web-1 = %+v", web1)
	}
	if got := inv.Instances["db-1"].Environment; got != "staging" {
		t.Errorf("instances.db-1.environment = %q", got)
	}
	for _, want := range []string{"Host web-1\n  HostName 10.0.0.11\n  ProxyJump bastion\n  User root\n", "Host bastion\n", "Host cache-eu\n", "  Port 2222\n", "  Compression yes\n"} {
		if !strings.Contains(inv.SSHConfig, want) {
			t.Errorf("sshConfig lacks %q:\n%s", want, inv.SSHConfig)
		}
	}
	if got := inv.Tags("web-1"); strings.Join(got, " ") != "eu frontend" {
		t.Errorf("tags of web-1 = %v", got)
	}
}

func TestLoadRejectsBadHives(t *testing.T) {
	fleet, err := os.ReadFile("testdata/fleet/hive.nix")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		// edit turns the fleet into the bad hive.
		from, to string
		want     []string
	}{
		{"unknown system", `system = "web"; store = "eu"; tags = [ "eu" ]; ssh = { HostName = "10.0.0.11"`, `system = "wbe"; store = "eu"; tags = [ "eu" ]; ssh = { HostName = "10.0.0.11"`,
			[]string{"hive.nix: instances.web-1.system: unknown system \"wbe\"; the systems are: arm, db, web"}},
		{"unknown store", `store = "eu"; tags = [ "eu" ]; ssh = { HostName = "10.0.0.12"`, `store = "us"; tags = [ "eu" ]; ssh = { HostName = "10.0.0.12"`,
			[]string{"hive.nix: instances.web-2.store: unknown store \"us\"; the stores are: eu"}},
		{"syntax error", `stores.eu = {`, `stores.eu = {{`,
			[]string{"error: syntax error", "hive.nix:14:16"}},
		{"bad instance name", `edge-2 = {`, `"edge 2" = {`,
			[]string{"hive.nix: instances.\"edge 2\": the name must match"}},
		{"tag not a string", `tags = [ "canary" ]`, `tags = [ 7 ]`,
			[]string{"hive.nix: instances.edge-2.tags.0: expected a string, got an integer"}},
		{"unknown attribute", `environment = "staging";`, `enviroment = "staging";`,
			[]string{"hive.nix: instances.db-1.enviroment: unknown attribute; expected one of: system, store, tags, ssh, environment, url"}},
		{"missing system", `edge-1 = { system = "arm";`, `edge-1 = {`,
			[]string{"hive.nix: instances.edge-1.system: missing; set it to one of the systems: arm, db, web"}},
		{"ssh value with newline", `Compression = true;`, `Compression = "yes\nProxyCommand evil";`,
			[]string{"hive.nix: instances.edge-2.ssh.Compression: the value must not contain a newline"}},
		{"unknown ssh option", `Compression = true;`, `Compresion = true;`,
			[]string{"hive.nix: instances.edge-2.ssh.Compresion: ssh rejects it: Bad configuration option: compresion"}},
		{"ssh yes/no", `Compression = true;`, `Compression = "maybe";`,
			[]string{`hive.nix: instances.edge-2.ssh.Compression: ssh rejects it: unsupported option "maybe"`}},
		{"bad store url", `url = "ssh-ng://cache-eu";`, `url = "sftp://cache-eu";`,
			[]string{"hive.nix: stores.eu.url: \"sftp://cache-eu\": nix knows no store type \"sftp\""}},
		{"sshHosts and instances share a name", `sshHosts.bastion =`, `sshHosts.web-3 = {}; sshHosts.bastion =`,
			[]string{"hive.nix: sshHosts.web-3: \"web-3\" is also an instance"}},
		{"wrong top-level type", `let`, `[ (let`,
			[]string{"hive.nix: top level: hive.nix must evaluate to an attribute set { systems = ...; instances = ...; }, got a list"}},
		{"misspelt top-level attribute", `sshHosts.bastion`, `sshHost.bastion`,
			[]string{"hive.nix: top level.sshHost: unknown attribute"}},
		{"bad platform", `system = "aarch64-linux";`, `system = "arm64";`,
			[]string{"hive.nix: systems.arm.system: \"arm64\" is not a platform"}},
		{"missing configuration", `arm = { configuration = never "arm";`, `arm = {`,
			[]string{"hive.nix: systems.arm.configuration: missing"}},
		{"bad batch", `stores.eu = {`, `rollout = { waves = [ "@eu" ]; batch = "0"; }; stores.eu = {`,
			[]string{`hive.nix: rollout.batch: "0" is neither a number of instances`}},
		{"misspelt rollout attribute", `stores.eu = {`, `rollout.wave = [ "@eu" ]; stores.eu = {`,
			[]string{"hive.nix: rollout.wave: unknown attribute; expected one of: waves, batch, rollbackWave"}},
		{"a check that is both a command and HTTP", `tags = [ "frontend" ];`, `tags = [ "frontend" ]; healthChecks.up = { command = [ "true" ]; http.port = 80; };`,
			[]string{"hive.nix: systems.web.healthChecks.up: set exactly one of command"}},
		{"a bad HTTP check", `tags = [ "frontend" ];`, `tags = [ "frontend" ]; healthChecks.up = { http = { port = 70000; path = "health"; }; retries = 0; };`,
			[]string{"systems.web.healthChecks.up.http.port: 70000 is not a port", "systems.web.healthChecks.up.http.path: \"health\" must start with /",
				"systems.web.healthChecks.up: retries and timeout must be at least 1"}},
		{"a key without a source", `tags = [ "frontend" ];`, `tags = [ "frontend" ]; keys.token = { user = "app"; };`,
			[]string{"hive.nix: systems.web.keys.token: set exactly one of file"}},
		{"bad key values", `tags = [ "frontend" ];`, `tags = [ "frontend" ]; keys.token = { env = "A-B"; user = "a b"; permissions = "777x"; destDir = "/nix/store/x"; uploadAt = "later"; };`,
			[]string{"keys.token.env: \"A-B\" is not an environment variable name", "keys.token.user: \"a b\" is not a user",
				"keys.token.permissions: \"777x\" is not an octal mode", "keys.token.destDir: keys never go into the Nix store",
				"keys.token.uploadAt: \"later\" is not pre-activation or post-activation"}},
		{"a key's bad name", `tags = [ "frontend" ];`, `tags = [ "frontend" ]; keys."../x" = { env = "A"; };`,
			[]string{"hive.nix: systems.web.keys.\"../x\": the name must match"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := string(fleet)
			if !strings.Contains(src, tt.from) {
				t.Fatalf("fixture lacks %q", tt.from)
			}
			if tt.name == "wrong top-level type" {
				src = strings.Replace(src, tt.from, tt.to, 1) + ")]"
			} else {
				src = strings.Replace(src, tt.from, tt.to, 1)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "hive.nix"), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := load(t, filepath.Join(dir, "hive.nix"))
			if err == nil {
				t.Fatal("bad hive was accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestResolveHive(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "hive.nix")
	os.WriteFile(file, []byte("{}"), 0o644)
	for _, arg := range []string{dir, file} {
		f, d, err := ResolveHive(arg)
		if err != nil || f != file || d != dir {
			t.Errorf("ResolveHive(%q) = %q, %q, %v", arg, f, d, err)
		}
	}
	if _, _, err := ResolveHive(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "hive file not found") {
		t.Errorf("missing hive: %v", err)
	}
}
