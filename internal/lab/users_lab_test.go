package lab

import (
	"context"
	"strings"
	"testing"
)

// TestUserWithSudo checks the lab's non-root login: it exists on the
// hosts only, may sudo without a password until its sudoers file is
// removed on one host, and root's login is unchanged.
func TestUserWithSudo(t *testing.T) {
	t.Parallel()
	l := NewForTest(t, Spec{Hosts: []HostSpec{{Name: "a"}, {Name: "b"}}})
	c := newSSHClient(t, l)
	user := []string{"-o", "User=" + User}
	tests := []struct {
		host string
		args []string
		want string
	}{
		{"a", []string{"id", "-un"}, User},
		{"a", []string{"sudo", "-n", "id", "-u"}, "0"},
		{"b", []string{"sudo", "-n", "nix-store", "--version"}, "nix-store (Nix)"},
	}
	for _, tt := range tests {
		out, err := c.runOpts(tt.host, user, nil, tt.args...)
		if err != nil || !strings.HasPrefix(out, tt.want) {
			t.Errorf("as %s on %s, %s: %q %v; want %q", User, tt.host, strings.Join(tt.args, " "), out, err, tt.want)
		}
	}
	if _, err := l.Exec(context.Background(), "b", "rm", SudoersFile); err != nil {
		t.Fatal(err)
	}
	if out, err := c.runOpts("b", user, nil, "sudo", "-n", "true"); err == nil {
		t.Errorf("sudo on b still works after its sudoers file was removed: %q", out)
	}
	if out, err := c.runOpts("a", user, nil, "sudo", "-n", "true"); err != nil {
		t.Errorf("removing b's sudoers file took a's sudo away: %q %v", out, err)
	}
	if got := c.must(t, "a", "id", "-u"); got != "0" {
		t.Errorf("root's login on a: uid %q", got)
	}
}
