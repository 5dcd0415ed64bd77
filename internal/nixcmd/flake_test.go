package nixcmd

import (
	"reflect"
	"testing"
)

func TestFlakeCommands(t *testing.T) {
	exprs := FlakeExprs{Dir: `/tmp/w "x"/hive`, NarHash: "sha256-H="}
	pure := []string{"nix-instantiate", "--extra-experimental-features", "nix-command flakes", "--option", "pure-eval", "true"}
	fetch := func(file string) string {
		return `import ((builtins.fetchTree { type = "path"; path = "/tmp/w \"x\"/hive"; narHash = "sha256-H="; }) + "/` + file + `")`
	}
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"metadata", FlakeMetadata("/src/fleet"), []string{"nix", "--extra-experimental-features", "nix-command flakes", "flake", "metadata", "--json", "--no-write-lock-file", "--no-update-lock-file", "/src/fleet"}},
		{"archive", FlakeArchive("path:/src/fleet?narHash=sha256-A"), []string{"nix", "--extra-experimental-features", "nix-command flakes", "flake", "archive", "--json", "--no-write-lock-file", "--no-update-lock-file", "path:/src/fleet?narHash=sha256-A"}},
		{"hash", HashPath("/tmp/w/hive"), []string{"nix", "--extra-experimental-features", "nix-command", "hash", "path", "/tmp/w/hive"}},
		{"current system", CurrentSystem(), []string{"nix-instantiate", "--eval", "--json", "--expr", "builtins.currentSystem"}},
		{"inventory", FlakeInventory(exprs, "path:/src?narHash=sha256-A", "nixHive", "/src", "x86_64-linux"),
			append(append([]string{}, pure...), "--eval", "--strict", "--json", "--expr", fetch("fromflake.nix"),
				"--argstr", "url", "path:/src?narHash=sha256-A", "--argstr", "attr", "nixHive", "--argstr", "currentSystem", "x86_64-linux", "--argstr", "deployment", "/src")},
		{"system", InstantiateFlake(FlakeSystem{Exprs: exprs, URL: "git+file:///src?rev=abc", Attr: "hives.prod", Name: "web", Platform: "aarch64-linux",
			Settings: map[string]string{"cores": "2"}}, "/r/system-web.drv"),
			append(append([]string{}, pure...), "--expr", fetch("flakesystem.nix"),
				"--argstr", "url", "git+file:///src?rev=abc", "--argstr", "attr", "hives.prod", "--argstr", "name", "web", "--argstr", "system", "aarch64-linux",
				"--add-root", "/r/system-web.drv", "--indirect", "--option", "cores", "2")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got\n%q\nwant\n%q", tt.got, tt.want)
			}
		})
	}
}

func TestNixString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/tmp/hive", `"/tmp/hive"`},
		{`a"b\c`, `"a\"b\\c"`},
		{"${x}", `"\${x}"`},
		{"a\nb", `"a\nb"`},
	}
	for _, tt := range tests {
		if got := nixString(tt.in); got != tt.want {
			t.Errorf("nixString(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
