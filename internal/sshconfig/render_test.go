package sshconfig

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/testenv"
)

func TestRenderBlocks(t *testing.T) {
	tests := []struct {
		name    string
		blocks  []Block
		want    []string
		wantErr string
	}{
		{"quoting", []Block{{Name: "web-1", Origin: "instances.web-1.ssh", Options: map[string]string{
			"HostName": "10.0.0.1", "IdentityFile": "/keys/my key", "ProxyJump": "bastion"}}},
			[]string{"\nHost web-1\n", "  HostName 10.0.0.1\n", `  IdentityFile "/keys/my key"` + "\n", "  ProxyJump bastion\n"}, ""},
		{"newline", []Block{{Name: "web-1", Origin: "instances.web-1.ssh", Options: map[string]string{"HostName": "a\n  ProxyCommand evil"}}},
			nil, "instances.web-1.ssh.HostName: the value must not contain a newline or a double quote"},
		{"double quote", []Block{{Name: "b", Origin: "sshHosts.b", Options: map[string]string{"User": `x" ProxyCommand "evil`}}},
			nil, "sshHosts.b.User: the value must not contain a newline or a double quote"},
		{"a Match block smuggled in", []Block{{Name: "b", Origin: "sshHosts.b", Options: map[string]string{"Match": "exec evil"}}},
			nil, "sshHosts.b.Match: Match is not an option of a host"},
		{"Include", []Block{{Name: "b", Origin: "sshHosts.b", Options: map[string]string{"include": "/etc/shadow"}}},
			nil, "sshHosts.b.include: include is not an option of a host"},
		{"not a keyword", []Block{{Name: "b", Origin: "sshHosts.b", Options: map[string]string{"Proxy Command": "x"}}},
			nil, `sshHosts.b.Proxy Command: "Proxy Command" is not an ssh_config keyword`},
		{"empty", []Block{{Name: "b", Origin: "sshHosts.b", Options: map[string]string{"User": ""}}},
			nil, "sshHosts.b.User: the value must not be empty"},
		{"bad name", []Block{{Name: "web 1", Origin: `instances."web 1".ssh`}},
			nil, `instances."web 1".ssh: "web 1" is not a usable host name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RenderBlocks(tt.blocks)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(got.Text, w) {
					t.Errorf("config lacks %q:\n%s", w, got.Text)
				}
			}
		})
	}
}

// TestCheckNamesTheOrigin lets the real ssh judge a config and checks that
// each complaint names the hive.nix attribute it came from, also for
// blocks of hosts other than the one ssh was asked about.
func TestCheckNamesTheOrigin(t *testing.T) {
	testenv.RequireTools(t, "ssh")
	r, err := RenderBlocks([]Block{
		{Name: "web-1", Origin: "instances.web-1.ssh", Options: map[string]string{"HostName": "10.0.0.1", "Prot": "22"}},
		{Name: "web-2", Origin: "instances.web-2.ssh", Options: map[string]string{"Port": "notaport"}},
		{Name: "bastion", Origin: "sshHosts.bastion", Options: map[string]string{"BatchMode": "maybe"}},
		{Name: "ok", Origin: "sshHosts.ok", Options: map[string]string{"User": "root", "Port": "2222", "ProxyJump": "bastion"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = Check(context.Background(), &process.Exec{}, t.TempDir(), r)
	if !errors.Is(err, ErrRejected) {
		t.Fatalf("error %v, want ErrRejected", err)
	}
	for _, want := range []string{
		"instances.web-1.ssh.Prot: ssh rejects it: Bad configuration option: prot",
		"instances.web-2.ssh.Port: ssh rejects it: Bad port 'notaport'",
		`sshHosts.bastion.BatchMode: ssh rejects it: unsupported option "maybe"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	good, _ := RenderBlocks([]Block{{Name: "ok", Origin: "sshHosts.ok", Options: map[string]string{"User": "root", "Port": "2222"}}})
	if err := Check(context.Background(), &process.Exec{}, t.TempDir(), good); err != nil {
		t.Errorf("a good config: %v", err)
	}
}

// FuzzRenderBlocks checks that no option value can add a line of its own
// to the config.
func FuzzRenderBlocks(f *testing.F) {
	f.Add("HostName", "10.0.0.1")
	f.Add("User", "a\nProxyCommand evil")
	f.Add("Port", "22\r")
	f.Fuzz(func(t *testing.T, key, value string) {
		r, err := RenderBlocks([]Block{{Name: "h", Origin: "instances.h.ssh", Options: map[string]string{key: value}}})
		if err != nil {
			return
		}
		if lines := strings.Count(r.Text, "\n"); lines != 4 {
			t.Fatalf("option %q = %q rendered %d lines:\n%s", key, value, lines, r.Text)
		}
	})
}
