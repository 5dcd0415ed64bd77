package sshconfig

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/testenv"
)

func TestRender(t *testing.T) {
	testenv.RequireTools(t, "ssh")
	tests := []struct {
		name string
		o    Options
		want []string
		not  []string
	}{
		{"defaults", Options{}, []string{"Host web-1\n", "Host *\n", "BatchMode yes", "ConnectTimeout 10", "StrictHostKeyChecking yes"}, []string{"IdentityFile", "accept-new", "UserKnownHostsFile"}},
		{"key and known hosts", Options{IdentityFile: "/k/id", KnownHosts: "/k/known hosts", ConnectTimeout: 3},
			[]string{"IdentityFile /k/id\n", "IdentitiesOnly yes", `UserKnownHostsFile "/k/known hosts"`, "ConnectTimeout 3"}, nil},
		{"trust on first use", Options{AcceptNewHostKeys: true}, []string{"StrictHostKeyChecking accept-new"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Render("Host web-1\n  HostName 10.0.0.1\n", tt.o)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("config lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(got, w) {
					t.Errorf("config has %q:\n%s", w, got)
				}
			}
			if err := Check(context.Background(), &process.Exec{}, t.TempDir(), Rendered{checkText: got}); err != nil {
				t.Errorf("ssh rejects the rendered config: %v", err)
			}
		})
	}
}

func TestWriteAndCommand(t *testing.T) {
	c, err := Write(t.TempDir(), "Host a\n  HostName 10.0.0.1\n", Options{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(c.Path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("config file: %v, mode %v", err, st.Mode())
	}
	got := c.Command("web-1", "sh", "-c", "echo $1", "x y")
	want := []string{"ssh", "-F", c.Path, "-o", "LogLevel=ERROR", "web-1", "--", `sh -c 'echo $1' 'x y'`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Command = %q, want %q", got, want)
	}
	if env := c.NixEnv(); env[0] != "NIX_SSHOPTS=-F "+c.Path {
		t.Errorf("NixEnv = %v", env)
	}
}
