package hostkeys

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/process/processtest"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

func TestParseG(t *testing.T) {
	out := []byte("user root\nhostname 10.0.0.11\nport 2222\nproxyjump jump@bastion:2200,edge\nstricthostkeychecking true\n" +
		"userknownhostsfile /k/known_hosts /k/known_hosts2\nglobalknownhostsfile /etc/ssh/ssh_known_hosts\n")
	got := ParseG(out)
	want := Target{HostName: "10.0.0.11", Port: "2222", ProxyJump: []string{"jump@bastion:2200", "edge"}, StrictHostKeyChecking: "true",
		KnownHostsFiles: []string{"/k/known_hosts", "/k/known_hosts2", "/etc/ssh/ssh_known_hosts"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseG = %+v\nwant %+v", got, want)
	}
	if name := got.LookupName(); name != "[10.0.0.11]:2222" {
		t.Errorf("LookupName = %q", name)
	}
	if name := (Target{HostName: "h", Port: "22", KeyAlias: "alias"}).LookupName(); name != "alias" {
		t.Errorf("LookupName with alias = %q", name)
	}
	if ParseG([]byte("proxyjump none\n")).ProxyJump != nil {
		t.Error("proxyjump none was read as a jump host")
	}
}

func TestJumpAlias(t *testing.T) {
	tests := []struct{ in, alias, port string }{
		{"bastion", "bastion", ""},
		{"root@bastion", "bastion", ""},
		{"root@bastion:2200", "bastion", "2200"},
		{"[fe80::1]:22", "fe80::1", "22"},
		{"fe80::1", "fe80::1", ""},
	}
	for _, tt := range tests {
		if a, p := jumpAlias(tt.in); a != tt.alias || p != tt.port {
			t.Errorf("jumpAlias(%q) = %q, %q; want %q, %q", tt.in, a, p, tt.alias, tt.port)
		}
	}
}

func TestCheck(t *testing.T) {
	known := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(known, []byte("10.0.0.1 ssh-ed25519 AAAA\n"), 0o600)
	cfg := &sshconfig.Config{Path: "/run/cfg"}
	f := processtest.New(t)
	g := func(host, jump string) string {
		return "hostname " + host + "\nport 22\nproxyjump " + jump + "\nstricthostkeychecking true\nuserknownhostsfile " + known + "\n"
	}
	f.Expect([]string{"ssh", "-G", "-F", "/run/cfg", "web-1"}, g("10.0.0.1", "none"), nil)
	f.Expect([]string{"ssh", "-G", "-F", "/run/cfg", "eu-1"}, g("10.1.0.1", "bastion"), nil)
	f.Expect([]string{"ssh", "-G", "-F", "/run/cfg", "bastion"}, g("10.0.0.9", "none"), nil)
	f.Expect([]string{"ssh-keygen", "-F", "10.0.0.1"}, "# Host 10.0.0.1 found", nil)
	f.Expect([]string{"ssh-keygen", "-F", "10.1.0.1"}, "", &process.CommandError{ExitCode: 1})
	f.Expect([]string{"ssh-keygen", "-F", "10.0.0.9"}, "", &process.CommandError{ExitCode: 1})
	err := (&Checker{Runner: f, SSH: cfg}).Check(context.Background(), []string{"web-1", "eu-1"})
	if !errors.Is(err, ErrUnknownHost) {
		t.Fatalf("error = %v, want ErrUnknownHost", err)
	}
	msg := err.Error()
	for _, want := range []string{"jump host bastion of eu-1 (10.0.0.9): host key is not known", "eu-1 (10.1.0.1): host key is not known", "--accept-new-host-keys"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "web-1") {
		t.Errorf("web-1 is known but was reported:\n%s", msg)
	}
}

func TestCheckSkipsTrustOnFirstUse(t *testing.T) {
	f := processtest.New(t)
	f.Expect([]string{"ssh", "-G"}, "hostname 10.0.0.1\nstricthostkeychecking accept-new\n", nil)
	if err := (&Checker{Runner: f, SSH: &sshconfig.Config{Path: "/c"}}).Check(context.Background(), []string{"a"}); err != nil {
		t.Errorf("accept-new host was checked: %v", err)
	}
}
