package inventory

import (
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/nixcmd"
)

func validInventory() *Inventory {
	return &Inventory{
		File:    "/x/hive.nix",
		Paths:   []string{"deployment=/x"},
		Systems: map[string]System{"web": {Path: []string{"deployment=/x"}, System: "x86_64-linux"}},
		Stores:  map[string]Store{"eu": {URL: "ssh-ng://cache", Substituter: "ssh://10.0.0.5", PublicKey: "cache:AAAA"}},
		Instances: map[string]Instance{
			"web-1": {System: "web", Store: "eu", Environment: "production", SSH: map[string]string{"HostName": "10.0.0.1"}},
		},
		SSHConfig: "Host web-1\n  HostName 10.0.0.1\n",
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Inventory)
		want string
	}{
		{"valid", func(*Inventory) {}, ""},
		{"unknown system", func(i *Inventory) { i.Instances["web-1"] = Instance{System: "db", Environment: "p"} },
			`hive.nix: instances.web-1.system: unknown system "db"; the systems are: web`},
		{"unknown store", func(i *Inventory) { i.Instances["web-1"] = Instance{System: "web", Store: "us", Environment: "p"} },
			`hive.nix: instances.web-1.store: unknown store "us"; the stores are: eu`},
		{"bad name", func(i *Inventory) { i.Instances["-x"] = Instance{System: "web", Environment: "p"} },
			`hive.nix: instances."-x": the name must match`},
		{"empty environment", func(i *Inventory) { i.Instances["web-1"] = Instance{System: "web"} },
			`hive.nix: instances.web-1.environment: must be 1 to 255 characters`},
		{"environment of 255 characters, not bytes", func(i *Inventory) {
			i.Instances["web-1"] = Instance{System: "web", Environment: strings.Repeat("ü", 255)}
		}, ""},
		{"environment of 256 characters", func(i *Inventory) {
			i.Instances["web-1"] = Instance{System: "web", Environment: strings.Repeat("e", 256)}
		}, `hive.nix: instances.web-1.environment: must be 1 to 255 characters`},
		{"bad url", func(i *Inventory) { i.Instances["web-1"] = Instance{System: "web", Environment: "p", URL: "web-1"} },
			`hive.nix: instances.web-1.url: "web-1" is not an http(s) URL`},
		{"store without host", func(i *Inventory) { i.Stores["eu"] = Store{URL: "ssh-ng://", Substituter: "ssh://a"} },
			`hive.nix: stores.eu.url: "ssh-ng://" names no host`},
		{"store url with space", func(i *Inventory) { i.Stores["eu"] = Store{URL: "ssh-ng://a b", Substituter: "ssh://a"} },
			`hive.nix: stores.eu.url: "ssh-ng://a b" contains white space`},
		{"bad public key", func(i *Inventory) {
			i.Stores["eu"] = Store{URL: "ssh-ng://a", Substituter: "ssh://a", PublicKey: "nokey"}
		},
			`hive.nix: stores.eu.publicKey: "nokey" is not a nix public key`},
		{"a legacy ssh:// store cannot take signatures", func(i *Inventory) { i.Stores["eu"] = Store{URL: "ssh://cache", Substituter: "ssh://10.0.0.5"} },
			`hive.nix: stores.eu.url: "ssh://cache": nix cannot add signatures to an ssh:// store`},
		{"binary caches", func(i *Inventory) {
			i.Stores["eu"] = Store{URL: "s3://cache-eu?region=eu-west-1", Substituter: "https://cache-eu.s3.amazonaws.com"}
			i.Stores["us"] = Store{URL: "file:///mnt/cache", Substituter: "http://10.0.0.5:8080"}
			i.Stores["ap"] = Store{URL: "https://cache.example.com", Substituter: "https://cache.example.com"}
		}, ""},
		{"the substituter defaults to an ssh alias", func(i *Inventory) {
			i.SSHHosts = map[string]map[string]string{"store-eu": {"HostName": "10.0.0.5"}}
			i.Stores["eu"] = Store{URL: "ssh-ng://store-eu", Substituter: "ssh-ng://store-eu"}
		}, `hive.nix: stores.eu.substituter: "ssh-ng://store-eu" names store-eu, a host of nix-hive's generated ssh config, which the instances do not have; substituter defaults to url; set it`},
		{"a substituter naming an instance", func(i *Inventory) {
			i.Stores["eu"] = Store{URL: "ssh-ng://cache", Substituter: "ssh://nix-ssh@web-1"}
		}, `hive.nix: stores.eu.substituter: "ssh://nix-ssh@web-1" names web-1, a host of nix-hive's generated ssh config`},
		{"bad platform", func(i *Inventory) { i.Systems["web"] = System{System: "linux"} },
			`hive.nix: systems.web.system: "linux" is not a platform`},
		{"no deployment path", func(i *Inventory) { i.Paths = nil },
			`hive.nix: paths: the first include path must be deployment=<dir>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := validInventory()
			tt.edit(inv)
			err := inv.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v\nwant it to contain %s", err, tt.want)
			}
		})
	}
}

func TestNixErrorMessage(t *testing.T) {
	tests := []struct{ name, stderr, want string }{
		{
			name:   "nix 2.8 throw",
			stderr: "error: hive.nix: instances.web-1.system: unknown system \"wbe\"; the systems are: web\n(use '--show-trace' to show detailed location information)\n",
			want:   "error: hive.nix: instances.web-1.system: unknown system \"wbe\"; the systems are: web",
		},
		{
			name: "nix 2.18 throw with trace",
			stderr: "error:\n       … while evaluating the attribute 'instances'\n\n         at /h/config.nix:20:3:\n\n       … while calling the 'throw' builtin\n\n" +
				"       error: hive.nix: instances.web-1.system: unknown system \"wbe\"; the systems are: web\n",
			want: "error: hive.nix: instances.web-1.system: unknown system \"wbe\"; the systems are: web",
		},
		{
			name:   "syntax error keeps the position",
			stderr: "error: syntax error, unexpected '{'\n\n       at /d/hive.nix:14:16:\n\n           14|   stores.eu = {{\n(use '--show-trace' to show detailed location information)\n",
			want:   "error: syntax error, unexpected '{'\n\n       at /d/hive.nix:14:16:\n\n           14|   stores.eu = {{",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nixcmd.ErrorMessage(tt.stderr); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"paths":["deployment=/x"],"systems":{},"stores":{},"instances":{},"sshConfig":""}`))
	f.Add([]byte(`{"instances":{"a":{"system":"b"}}}`))
	f.Add([]byte(`{"discover":{"prod":{"ec2":{"region":"eu-west-1","filters":{"tag:env":["prod"]}},"ssh":{"Port":22}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := Decode(data, "hive.nix")
		if err != nil {
			return
		}
		_ = inv.Validate()
		_ = inv.Only(inv.InstanceNames())
		if sources, err := inv.Sources(); err == nil {
			for _, src := range sources {
				_ = src.Validate()
			}
		}
	})
}
