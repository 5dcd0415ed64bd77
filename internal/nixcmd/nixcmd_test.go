package nixcmd

import (
	"reflect"
	"testing"
)

func TestInstantiate(t *testing.T) {
	got := Instantiate(SystemBuild{ExprDir: "/h", HiveFile: "/d/hive.nix", Name: "web", Platform: "x86_64-linux",
		Path: []string{"deployment=/d", "nixpkgs=/p"}, Settings: map[string]string{"cores": "4", "builders": ""}}, "/r/web.drv")
	want := []string{"nix-instantiate", "/h/system.nix", "--argstr", "hiveFile", "/d/hive.nix", "--argstr", "name", "web",
		"--argstr", "system", "x86_64-linux", "-I", "deployment=/d", "-I", "nixpkgs=/p", "--add-root", "/r/web.drv", "--indirect",
		"--option", "builders", "", "--option", "cores", "4"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Instantiate =\n%q\nwant\n%q", got, want)
	}
}

func TestCommands(t *testing.T) {
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"realise", Realise("/nix/store/x.drv", "", nil), []string{"nix-store", "--realise", "/nix/store/x.drv"}},
		{"realise with root", Realise("/nix/store/x.drv", "/tmp/r/web", map[string]string{"cores": "2"}), []string{"nix-store", "--realise", "/nix/store/x.drv", "--add-root", "/tmp/r/web", "--indirect", "--option", "cores", "2"}},
		{"sign", Sign("/k", "/nix/store/p"), []string{"nix", "--extra-experimental-features", "nix-command", "store", "sign", "--recursive", "--key-file", "/k", "/nix/store/p"}},
		{"sign in the store", SignIn("s3://c?region=eu-west-1", "/k", "/nix/store/p"), []string{"nix", "--extra-experimental-features", "nix-command", "store", "sign", "--store", "s3://c?region=eu-west-1", "--recursive", "--key-file", "/k", "/nix/store/p"}},
		{"copy", CopyTo("ssh-ng://cache", "/nix/store/p"), []string{"nix", "--extra-experimental-features", "nix-command", "copy", "--no-check-sigs", "--to", "ssh-ng://cache", "/nix/store/p"}},
		{"substitute", Substitute("/nix/store/p", "ssh://10.0.0.5", "c:K="), []string{"nix-store", "--realise", "/nix/store/p", "--option", "extra-substituters", "ssh://10.0.0.5", "--option", "narinfo-cache-negative-ttl", "0", "--option", "extra-trusted-public-keys", "c:K="}},
		{"substitute unsigned", Substitute("/nix/store/p", "ssh://s", ""), []string{"nix-store", "--realise", "/nix/store/p", "--option", "extra-substituters", "ssh://s", "--option", "narinfo-cache-negative-ttl", "0"}},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s = %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestParsePath(t *testing.T) {
	const p = "/nix/store/0c7w6bmaql5gf3zyfrsbqqrjpk24x1sb-nixos-system-web"
	tests := []struct {
		out     string
		want    string
		wantErr bool
	}{
		{p + "\n", p, false},
		{"warning: something\n" + p + "\n", p, false},
		{"", "", true},
		{"/tmp/x\n", "", true},
		{"/nix/store/short-x\n", "", true},
	}
	for _, tt := range tests {
		got, err := ParsePath([]byte(tt.out))
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParsePath(%q) = %q, %v", tt.out, got, err)
		}
	}
}
