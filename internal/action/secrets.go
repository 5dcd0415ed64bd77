package action

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sethvargo/go-githubactions"
)

// secretInputs are the inputs that hold secrets.
func secretInputs() []string {
	return []string{"github-token", "ssh-private-key", "signing-key"}
}

// MaskSecrets tells the runner to hide every secret input in the log, and
// the nix-config input, where people put access-tokens. The runner masks
// line by line, so each line of a multi-line secret (a key) is masked on
// its own; each value of a nix-config line is masked too. Call it before
// anything else writes to the log.
func MaskSecrets(a *githubactions.Action) {
	for _, name := range append(secretInputs(), "nix-config") {
		for _, line := range strings.Split(normalizeLines(a.GetInput(name)), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				a.AddMask(line)
			}
			if name == "nix-config" {
				maskNixValues(a, line)
			}
		}
	}
}

// maskNixValues masks the value of a nix.conf line (after "="), and each
// of its words that carries a credential ("host=token", as access-tokens
// has them), so that nix echoing a setting does not show it.
func maskNixValues(a *githubactions.Action, line string) {
	_, value, ok := strings.Cut(line, "=")
	if value = strings.TrimSpace(value); !ok || len(value) < 8 {
		return // short values (numbers, booleans) would mask common words
	}
	a.AddMask(value)
	for _, word := range strings.Fields(value) {
		if _, token, ok := strings.Cut(word, "="); ok && len(token) >= 8 {
			a.AddMask(word)
			a.AddMask(token)
		}
	}
}

// Keys are the key inputs written to private files, for ssh and nix.
type Keys struct {
	// Dir holds the files; mode 0700.
	Dir string
	// SSHKey, KnownHosts and SigningKey are the files (mode 0600), or ""
	// for an input not given.
	SSHKey, KnownHosts, SigningKey string
}

// WriteKeys writes the ssh key, the known hosts and the signing key into a
// new private directory under the system's temporary directory. remove
// deletes it; call it when the run ends.
func WriteKeys(in *Inputs) (keys *Keys, remove func(), err error) {
	dir, err := os.MkdirTemp("", "nix-hive-keys-")
	if err != nil {
		return nil, nil, fmt.Errorf("make a private directory for the keys: %w", err)
	}
	remove = func() { _ = os.RemoveAll(dir) } // MkdirTemp made it 0700
	keys = &Keys{Dir: dir}
	files := []struct {
		path    *string
		name    string
		content string
	}{
		{&keys.SSHKey, "ssh_key", in.SSHKey},
		{&keys.KnownHosts, "known_hosts", in.KnownHosts},
		{&keys.SigningKey, "signing_key", in.SigningKey},
	}
	for _, f := range files {
		if f.content == "" {
			continue
		}
		*f.path = filepath.Join(dir, f.name)
		if err := writePrivate(*f.path, strings.TrimRight(f.content, "\n")+"\n"); err != nil {
			remove()
			return nil, nil, err
		}
	}
	return keys, remove, nil
}

// writePrivate creates a file only its owner may read.
func writePrivate(path, content string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	_, err = f.WriteString(content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}
