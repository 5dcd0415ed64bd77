package action

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/nix-hive/nix-hive/internal/keyfile"
)

// checkPrivateKey checks an ssh-private-key input with package keyfile's
// checks (the CLI's), then looks inside a key in OpenSSH's format for a
// passphrase, which keyfile cannot see: the cipher is in the base64 body.
// Its errors never quote the key.
func checkPrivateKey(s string) error {
	if err := keyfile.CheckSSHPrivateKeyData([]byte(s)); err != nil {
		return err
	}
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if strings.TrimSpace(lines[0]) != "-----BEGIN OPENSSH PRIVATE KEY-----" {
		return nil
	}
	blob, err := base64.StdEncoding.DecodeString(strings.Join(lines[1:len(lines)-1], ""))
	if err != nil {
		return fmt.Errorf("%w: the OpenSSH private key's body is not base64", keyfile.ErrBadKey)
	}
	rest, ok := bytes.CutPrefix(blob, []byte("openssh-key-v1\x00"))
	if !ok || len(rest) < 4 || uint64(binary.BigEndian.Uint32(rest)) > uint64(len(rest)-4) {
		return fmt.Errorf("%w: the OpenSSH private key is cut short or not an openssh-key-v1 key", keyfile.ErrBadKey)
	}
	if cipher := rest[4 : 4+binary.BigEndian.Uint32(rest)]; string(cipher) != "none" {
		return fmt.Errorf("%w: the key is passphrase-protected; nix-hive runs ssh in batch mode and cannot ask for it", keyfile.ErrBadKey)
	}
	return nil
}

// checkKnownHosts checks that each line of a known_hosts text has a host
// pattern, a key type and a key.
func checkKnownHosts(s string) error {
	for i, line := range strings.Split(s, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		want := 3
		if strings.HasPrefix(fields[0], "@") { // @cert-authority, @revoked
			want = 4
		}
		if len(fields) < want {
			return fmt.Errorf("line %d is not a known_hosts entry (HOSTS KEYTYPE KEY, as ssh-keyscan prints)", i+1)
		}
	}
	return nil
}
