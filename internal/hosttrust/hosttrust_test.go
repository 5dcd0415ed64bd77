package hosttrust

import (
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/inventory"
	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/process/processtest"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

func TestTrusted(t *testing.T) {
	tests := []struct {
		name string
		out  string
		want bool
	}{
		{"root", "root\n", true},
		{"passwordless sudo", "sudo\n", true},
		{"the default trusted-users", "user deploy\ngroups deploy\ntrusted-users = root\n", false},
		{"named", "user deploy\ngroups deploy\ntrusted-users = root deploy\n", true},
		{"a group of the user", "user deploy\ngroups deploy wheel\ntrusted-users = root @wheel\n", true},
		{"a group of others", "user deploy\ngroups deploy\ntrusted-users = root @wheel\n", false},
		{"everyone", "user deploy\ngroups deploy\ntrusted-users = *\n", true},
		{"nobody", "user deploy\ngroups deploy\ntrusted-users = \n", false},
		{"nix did not say", "user deploy\ngroups deploy\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Parse([]byte(tt.out)).Trusted(); got != tt.want {
				t.Errorf("Trusted = %v, want %v (%+v)", got, tt.want, Parse([]byte(tt.out)))
			}
		})
	}
}

// TestProbeRuns runs the probe's shell text here: it is valid sh and says
// who nix runs as.
func TestProbeRuns(t *testing.T) {
	out, err := exec.Command("sh", "-c", probe).Output()
	if err != nil {
		t.Fatalf("the probe failed: %v", err)
	}
	a := Parse(out)
	if !a.Root && a.User == "" {
		t.Errorf("the probe said nothing usable: %q", out)
	}
}

func TestCheck(t *testing.T) {
	inv := &inventory.Inventory{
		Stores: map[string]inventory.Store{"eu": {URL: "ssh-ng://c"}},
		Instances: map[string]inventory.Instance{
			"eu-1":  {Store: "eu", SSH: map[string]string{"User": "root"}},         // root: not asked
			"eu-2":  {Store: "eu", SSH: map[string]string{"User": "deploy"}},       // untrusted
			"eu-3":  {Store: "eu", SSH: map[string]string{"User": "deploy"}},       // sudo
			"eu-4":  {Store: "eu", SSH: map[string]string{"User": "deploy"}},       // unreachable
			"web-1": {SSH: map[string]string{"User": "deploy"}},                    // no store: not asked
			"eu-5":  {Store: "eu", SSH: map[string]string{"HostName": "10.0.0.5"}}, // no User: asked
		},
	}
	ssh := &sshconfig.Config{Path: "/run/ssh_config"}
	fake := processtest.New(t)
	answers := map[string]string{"eu-2": "user deploy\ngroups deploy\ntrusted-users = root @wheel\n", "eu-3": "sudo\n", "eu-5": "root\n"}
	for name, out := range answers {
		fake.Expect(ssh.Command(name, "sh", "-c", probe), out, nil)
	}
	fake.Expect(ssh.Command("eu-4", "sh", "-c", probe), "", &process.CommandError{Args: []string{"ssh"}, ExitCode: 255, Err: errors.New("exit status 255")})
	err := (&Checker{Runner: fake, SSH: ssh}).Check(context.Background(), inv)
	if err == nil {
		t.Fatal("an untrusted login passed")
	}
	msg := err.Error()
	for _, want := range []string{"instance eu-2: user deploy is not root", "trusted-users = root @wheel", "store eu", `nix.settings.trusted-users = [ "deploy" ];`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	for _, other := range []string{"eu-1", "eu-3", "eu-4", "eu-5", "web-1"} {
		if strings.Contains(msg, "instance "+other) {
			t.Errorf("error names %s: %q", other, msg)
		}
	}
	var asked []string
	for _, c := range fake.Calls() {
		asked = append(asked, c.Args[len(c.Args)-3])
	}
	slices.Sort(asked)
	if want := []string{"eu-2", "eu-3", "eu-4", "eu-5"}; !slices.Equal(asked, want) {
		t.Errorf("asked %q, want %q", asked, want)
	}
}
