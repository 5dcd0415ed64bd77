package hostkeys

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

// newKey returns a fresh public key in authorized_keys form.
func newKey(t testing.TB) (ssh.PublicKey, string) {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
}

// TestKnown checks Known on each kind of known_hosts line, and that it
// agrees with golang.org/x/crypto/ssh/knownhosts for the lines that
// package checks keys against (all but @cert-authority).
func TestKnown(t *testing.T) {
	_, a := newKey(t)
	_, b := newKey(t)
	_, revoked := newKey(t)
	_, ca := newKey(t)
	file := filepath.Join(t.TempDir(), "known_hosts")
	lines := []string{
		"# a comment",
		"10.0.0.1,web-1.example.com " + a,
		"[10.0.0.2]:2222 " + a,
		"*.site.example.com,!bad.site.example.com " + b,
		"10.0.0.?" + " " + b,
		knownhosts.HashHostname("10.9.9.9") + " " + a,
		knownhosts.HashHostname("[10.9.9.8]:2200") + " " + b,
		"10.0.0.66 " + revoked,
		"@revoked * " + revoked,
		"this line is not a known_hosts line",
		"@cert-authority *.ca.example.com " + ca,
	}
	os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	k, err := ReadKnownHosts([]string{file, filepath.Join(t.TempDir(), "missing")})
	if err != nil {
		t.Fatal(err)
	}
	oracle, err := knownhosts.New(file)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host, port string
		known, ca  bool
	}{
		{"10.0.0.1", "22", true, false},
		{"web-1.example.com", "", true, false},
		{"10.0.0.1", "2222", false, false},
		{"10.0.0.2", "2222", true, false},
		{"10.0.0.2", "22", true, false}, // 10.0.0.? matches
		{"a.site.example.com", "22", true, false},
		{"bad.site.example.com", "22", false, false},
		{"10.9.9.9", "22", true, false},
		{"10.9.9.8", "2200", true, false},
		{"10.9.9.8", "22", false, false},
		{"10.0.0.66", "22", false, false},
		{"10.0.0.100", "22", false, false},
		{"x.ca.example.com", "22", true, true},
		{"x.ca.example.com", "2222", false, true},
	}
	for _, tt := range tests {
		name := LookupName(tt.host, tt.port)
		if got := k.Known(name); got != tt.known {
			t.Errorf("Known(%q) = %v, want %v", name, got, tt.known)
		}
		if tt.ca {
			continue
		}
		if got := oracleKnows(t, oracle, k, tt.host, tt.port); got != tt.known {
			t.Errorf("x/crypto/ssh/knownhosts says %q known = %v, want %v", name, got, tt.known)
		}
	}
}

// oracleKnows asks knownhosts whether any key it knows for host is
// accepted: a key it does not know yields the keys it wants.
func oracleKnows(t *testing.T, cb ssh.HostKeyCallback, k *KnownHosts, host, port string) bool {
	if port == "" {
		port = "22"
	}
	addr := net.JoinHostPort(host, port)
	remote := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 250), Port: 22}
	dummy, _ := newKey(t)
	var ke *knownhosts.KeyError
	if err := cb(addr, remote, dummy); !errors.As(err, &ke) {
		return false
	}
	for _, w := range ke.Want {
		if cb(addr, remote, w.Key) == nil {
			return true
		}
	}
	return false
}

func TestCheck(t *testing.T) {
	_, key := newKey(t)
	known := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(known, []byte("10.0.0.1 "+key+"\nfrankfurt-key "+key+"\n"), 0o600)
	blocks := []sshconfig.Block{
		{Name: "web-1", Options: map[string]string{"HostName": "10.0.0.1"}},
		{Name: "eu-1", Options: map[string]string{"HostName": "10.1.0.1", "ProxyJump": "root@bastion:2200"}},
		{Name: "eu-2", Options: map[string]string{"HostName": "10.1.0.2", "ProxyJump": "bastion,inner"}},
		{Name: "bastion", Options: map[string]string{"HostName": "10.0.0.9"}},
		{Name: "inner", Options: map[string]string{"HostName": "10.1.0.250", "StrictHostKeyChecking": "accept-new"}},
		{Name: "fra-1", Options: map[string]string{"HostName": "10.2.0.1", "HostKeyAlias": "frankfurt-key", "Port": "2222"}},
		{Name: "asked", Options: map[string]string{"HostName": "10.2.0.9", "StrictHostKeyChecking": "yes"}},
	}
	tests := []struct {
		name    string
		o       sshconfig.Options
		aliases []string
		want    []string
		not     []string
	}{
		{"known", sshconfig.Options{}, []string{"web-1", "fra-1"}, nil, nil},
		{"unknown host and jump host", sshconfig.Options{}, []string{"web-1", "eu-1", "eu-2"},
			[]string{"jump host bastion of eu-1 ([10.0.0.9]:2200): host key is not known", "eu-1 (10.1.0.1): host key is not known",
				"eu-2 (10.1.0.2)", "jump host bastion of eu-2 (10.0.0.9)", "--accept-new-host-keys"},
			[]string{"web-1", "inner"}},
		{"trust on first use", sshconfig.Options{AcceptNewHostKeys: true}, []string{"eu-1", "asked"},
			[]string{"asked (10.2.0.9): host key is not known"}, []string{"eu-1", "bastion"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.KnownHosts, tt.o.NoMultiplex = known, true
			cfg, err := sshconfig.New(t.TempDir(), blocks, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			err = (&Checker{SSH: cfg}).Check(context.Background(), tt.aliases)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("error = %v", err)
				}
				return
			}
			if !errors.Is(err, ErrUnknownHost) {
				t.Fatalf("error = %v, want ErrUnknownHost", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(err.Error(), w) {
					t.Errorf("error names %q:\n%v", w, err)
				}
			}
		})
	}
}
