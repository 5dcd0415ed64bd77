// Package keyfile checks key files before nix-hive hands them to ssh or
// nix, so that an empty or wrong key is a clear error up front instead of a
// failed login on every host. It never prints a key's content.
package keyfile

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// ErrBadKey is wrapped by every error about a key's content.
var ErrBadKey = errors.New("not a usable key")

var pemBlock = regexp.MustCompile(`(?s)^-----BEGIN ((OPENSSH|RSA|EC|DSA) )?PRIVATE KEY-----\r?\n.+\r?\n-----END ((OPENSSH|RSA|EC|DSA) )?PRIVATE KEY-----\s*$`)

// CheckSSHPrivateKeyData checks that data is an unencrypted-looking
// OpenSSH or PEM private key block.
func CheckSSHPrivateKeyData(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case len(data) == 0:
		return fmt.Errorf("%w: the ssh private key is empty", ErrBadKey)
	case bytes.HasPrefix(data, []byte("ssh-")) || bytes.HasPrefix(data, []byte("ecdsa-")):
		return fmt.Errorf("%w: this is a public key; give the private key (the file without .pub)", ErrBadKey)
	case !pemBlock.Match(data):
		return fmt.Errorf("%w: expected an OpenSSH private key (-----BEGIN OPENSSH PRIVATE KEY----- ... -----END OPENSSH PRIVATE KEY-----)", ErrBadKey)
	case bytes.Contains(data, []byte("ENCRYPTED")):
		return errPassphrase
	}
	return checkOpenSSHCipher(data)
}

var errPassphrase = fmt.Errorf("%w: the key is passphrase-protected; nix-hive runs ssh in batch mode and cannot ask for it", ErrBadKey)

// checkOpenSSHCipher looks inside a key in OpenSSH's own format, where a
// passphrase shows only as the cipher named in the base64 body.
func checkOpenSSHCipher(data []byte) error {
	lines := strings.Split(string(data), "\n")
	if strings.TrimSpace(lines[0]) != "-----BEGIN OPENSSH PRIVATE KEY-----" {
		return nil
	}
	blob, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(strings.Join(lines[1:len(lines)-1], "")), ""))
	if err != nil {
		return fmt.Errorf("%w: the OpenSSH private key's body is not base64", ErrBadKey)
	}
	rest, ok := bytes.CutPrefix(blob, []byte("openssh-key-v1\x00"))
	if !ok || len(rest) < 4 || uint64(binary.BigEndian.Uint32(rest)) > uint64(len(rest)-4) {
		return fmt.Errorf("%w: the OpenSSH private key is cut short or not an openssh-key-v1 key", ErrBadKey)
	}
	if cipher := rest[4 : 4+binary.BigEndian.Uint32(rest)]; string(cipher) != "none" {
		return errPassphrase
	}
	return nil
}

var nixSecretKey = regexp.MustCompile(`^[^:\s]+:([A-Za-z0-9+/]+=*)$`)

// CheckNixSecretKeyData checks that data is a nix secret key
// ("name:base64", as nix-store --generate-binary-cache-key writes).
func CheckNixSecretKeyData(data []byte) error {
	m := nixSecretKey.FindSubmatch(bytes.TrimSpace(data))
	if m == nil {
		return fmt.Errorf("%w: expected a nix secret key (name:base64, from nix-store --generate-binary-cache-key)", ErrBadKey)
	}
	raw, err := base64.StdEncoding.DecodeString(string(m[1]))
	if err != nil || len(raw) != 64 {
		return fmt.Errorf("%w: the nix secret key's base64 part is not a 64-byte ed25519 secret key (is it the public key?)", ErrBadKey)
	}
	return nil
}

// NixPublicKeyData returns the public key ("name:base64") of the nix
// secret key data: an ed25519 secret key's last 32 bytes are its public
// key, under the same name. It is what `nix key convert-secret-to-public`
// prints.
func NixPublicKeyData(data []byte) (string, error) {
	if err := CheckNixSecretKeyData(data); err != nil {
		return "", err
	}
	name, secret, _ := strings.Cut(string(bytes.TrimSpace(data)), ":")
	raw, _ := base64.StdEncoding.DecodeString(secret) // checked above
	return name + ":" + base64.StdEncoding.EncodeToString(raw[32:]), nil
}

// NixPublicKey returns the public key of a nix secret key file.
func NixPublicKey(path string) (string, error) {
	var public string
	err := checkFile(path, func(data []byte) error {
		var err error
		public, err = NixPublicKeyData(data)
		return err
	})
	return public, err
}

// CheckSSHPrivateKey checks an ssh private key file.
func CheckSSHPrivateKey(path string) error { return checkFile(path, CheckSSHPrivateKeyData) }

// CheckNixSecretKey checks a nix secret key file.
func CheckNixSecretKey(path string) error { return checkFile(path, CheckNixSecretKeyData) }

func checkFile(path string, check func([]byte) error) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := check(data); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
