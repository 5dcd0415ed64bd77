package keyfile

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/testenv"
)

func TestCheckSSHPrivateKeyData(t *testing.T) {
	valid := "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----\n" // openssh-key-v1, cipher none
	tests := []struct {
		name, data, want string
	}{
		{"openssh", valid, ""},
		{"pem rsa", "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", ""},
		{"empty", "  \n", "the ssh private key is empty"},
		{"public key", "ssh-ed25519 AAAAC3Nza user@host", "this is a public key"},
		{"garbage", "hunter2", "expected an OpenSSH private key"},
		{"truncated", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn", "expected an OpenSSH private key"},
		{"not openssh-key-v1", "-----BEGIN OPENSSH PRIVATE KEY-----\naGVsbG8=\n-----END OPENSSH PRIVATE KEY-----", "cut short or not an openssh-key-v1 key"},
		{"encrypted", "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nabc\n-----END RSA PRIVATE KEY-----", "passphrase-protected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckSSHPrivateKeyData([]byte(tt.data))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrBadKey) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
			if err != nil && strings.TrimSpace(tt.data) != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.data)) {
				t.Errorf("the error shows the key's content: %v", err)
			}
		})
	}
}

func TestNixPublicKeyData(t *testing.T) {
	// A fixed key pair from nix-store --generate-binary-cache-key.
	const secret = "test-1:RIODn3i934NPr8WKGtGkWPgcU7WYjCGwrFePf24Z+cQQWW/TX8qF72EoGZ+5IB3H8KT2fha2yR2rLs9lEFBCZQ=="
	const public = "test-1:EFlv01/Khe9hKBmfuSAdx/Ck9n4Wtskdqy7PZRBQQmU="
	tests := []struct {
		name, data, want string
		wantErr          bool
	}{
		{"a secret key", secret + "\n", public, false},
		{"the public key", public, "", true},
		{"not a key", "hello", "", true},
		{"empty", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NixPublicKeyData([]byte(tt.data))
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("NixPublicKeyData = %q, %v; want %q", got, err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "RIODn3i9") {
				t.Errorf("the error shows the secret key: %v", err)
			}
		})
	}
}

func TestCheckRealKeys(t *testing.T) {
	testenv.RequireTools(t, "ssh-keygen", "nix-store")
	dir := t.TempDir()
	t.Run("ssh keys", func(t *testing.T) {
		key := filepath.Join(dir, "id")
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v %s", err, out)
		}
		if err := CheckSSHPrivateKey(key); err != nil {
			t.Errorf("a real ed25519 key was rejected: %v", err)
		}
		if err := CheckSSHPrivateKey(key + ".pub"); err == nil {
			t.Error("a public key was accepted")
		}
		locked := filepath.Join(dir, "locked")
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "a passphrase", "-f", locked).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v %s", err, out)
		}
		if err := CheckSSHPrivateKey(locked); err == nil || !strings.Contains(err.Error(), "passphrase-protected") {
			t.Errorf("a passphrase-protected key: %v", err)
		}
	})
	t.Run("nix keys", func(t *testing.T) {
		sec, pub := filepath.Join(dir, "sec"), filepath.Join(dir, "pub")
		if out, err := exec.Command("nix-store", "--generate-binary-cache-key", "c", sec, pub).CombinedOutput(); err != nil {
			t.Fatalf("nix-store: %v %s", err, out)
		}
		if err := CheckNixSecretKey(sec); err != nil {
			t.Errorf("a real nix secret key was rejected: %v", err)
		}
		if err := CheckNixSecretKey(pub); err == nil {
			t.Error("a nix public key was accepted as the secret key")
		}
		// The public half nix-hive derives is the one nix wrote.
		want, err := os.ReadFile(pub)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := NixPublicKey(sec); err != nil || got != strings.TrimSpace(string(want)) {
			t.Errorf("NixPublicKey = %q, %v; want %q", got, err, want)
		}
		if _, err := NixPublicKey(pub); err == nil {
			t.Error("NixPublicKey took a public key")
		}
	})
	if err := CheckNixSecretKey(filepath.Join(dir, "missing")); err == nil || !os.IsNotExist(errors.Unwrap(err)) && !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
}
