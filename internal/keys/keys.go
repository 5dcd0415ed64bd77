// Package keys uploads secrets to hosts (hive.nix's keys): their content
// is read on the runner — from a file, a command's output or an
// environment variable — once, before any host is touched, kept in memory
// only, and streamed to the host on ssh's standard input, so it is never
// in the Nix store, in a log, in a program's arguments or in a file of the
// runner's. On the host a constant script writes it to a temporary file
// (umask 077), sets its owner, group and mode, and renames it into place.
package keys

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/inventory"
	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

// writeKey is the constant remote shell text that writes standard input to
// the key file "$1" with owner "$2", group "$3" and mode "$4", as root
// (directly, or through passwordless sudo). A directory it makes is 0711:
// the keys' owners reach their files, nobody lists them. No value from
// hive.nix is ever part of it; they arrive as "$@".
const writeKey = `if [ "$(id -u)" = 0 ]; then s=; elif sudo -n true 2>/dev/null; then s="sudo -n"; ` +
	`else cat >/dev/null; echo "user $(id -un) is not root and cannot sudo without a password" >&2; exit 77; fi; ` +
	`exec $s sh -c 'set -e; umask 077; d=$(dirname "$1"); [ -d "$d" ] || { mkdir -p "$d"; chmod 0711 "$d"; }; ` +
	`t="$d/.nix-hive-key.$$"; trap "rm -f \"\$t\"" EXIT; cat >"$t"; chown "$2:$3" "$t"; chmod "$4" "$t"; mv -f "$t" "$1"; trap - EXIT' ` +
	`nix-hive-key "$@"`

// Key is a key with its content.
type Key struct {
	inventory.Key
	// Name is the key's name, its file name on the host.
	Name    string
	content []byte
}

// Dest is the key's path on the host.
func (k Key) Dest() string { return path.Join(k.DestDir, k.Name) }

// Set holds the resolved keys of the selected instances, by instance and
// name.
type Set struct {
	keys map[string]map[string]*Key
}

// Resolve reads the content of every key the instances of inv need,
// each source once: a file on the runner, a command run on the runner
// (its standard output), or a variable of environ. Every missing or
// unreadable source is named at once, before any host is touched.
func Resolve(ctx context.Context, r process.Runner, inv *inventory.Inventory, environ []string) (*Set, error) {
	s := &Set{keys: map[string]map[string]*Key{}}
	read := map[string][]byte{} // by source
	var errs []error
	for _, inst := range inv.InstanceNames() {
		for name, k := range inv.KeysOf(inst) {
			src := source(k)
			content, ok := read[src]
			if !ok {
				var err error
				content, err = readSource(ctx, r, k, environ)
				if err != nil {
					errs = append(errs, fmt.Errorf("key %s of %s: %w", name, inst, err))
					read[src] = nil
					continue
				}
				read[src] = content
			}
			if content == nil {
				continue
			}
			if s.keys[inst] == nil {
				s.keys[inst] = map[string]*Key{}
			}
			s.keys[inst][name] = &Key{Key: k, Name: name, content: content}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("no host was touched: %w", err)
	}
	return s, nil
}

// source identifies where a key's content comes from.
func source(k inventory.Key) string {
	switch {
	case k.File != "":
		return "file " + k.File
	case k.Env != "":
		return "env " + k.Env
	}
	return "command " + process.QuoteArgs(k.Command)
}

// readSource reads one key's content.
func readSource(ctx context.Context, r process.Runner, k inventory.Key, environ []string) ([]byte, error) {
	switch {
	case k.File != "":
		data, err := os.ReadFile(k.File)
		if err != nil {
			return nil, fmt.Errorf("read its file: %w", err)
		}
		return data, nil
	case k.Env != "":
		for _, kv := range slices.Backward(environ) {
			if v, ok := strings.CutPrefix(kv, k.Env+"="); ok {
				return []byte(v), nil
			}
		}
		return nil, fmt.Errorf("the environment variable %s is not set", k.Env)
	}
	out, err := r.Run(ctx, process.Command{Args: k.Command})
	if err != nil {
		return nil, fmt.Errorf("run its command %s: %w", k.Command[0], err)
	}
	return out, nil
}

// Of returns an instance's keys, by name.
func (s *Set) Of(instance string) map[string]*Key { return s.keys[instance] }

// Clear overwrites every key's content in memory; the set is empty after.
func (s *Set) Clear() {
	for _, m := range s.keys {
		for _, k := range m {
			clear(k.content)
		}
	}
	s.keys = map[string]map[string]*Key{}
}

// Uploader writes keys to hosts over ssh: the engine's KeyUploader.
type Uploader struct {
	// Runner runs ssh.
	Runner process.Runner
	// SSH is the run's ssh config.
	SSH *sshconfig.Config
	// Keys are the resolved keys.
	Keys *Set
	// Log returns the writer for an instance's log lines; nil discards.
	Log func(instance string) io.Writer
}

var _ engine.KeyUploader = (*Uploader)(nil)

// Command is the ssh command that writes k on the instance; the key's
// content is its standard input, never an argument.
func (u *Uploader) Command(instance string, k *Key) process.Command {
	remote := []string{"sh", "-c", writeKey, "nix-hive-key", k.Dest(), k.User, k.Group, k.Permissions}
	return process.Command{Args: u.SSH.Command(instance, remote...), Stdin: bytes.NewReader(k.content)}
}

// Upload implements engine.KeyUploader.
func (u *Uploader) Upload(ctx context.Context, instance, when string) error {
	keys := u.Keys.Of(instance)
	log := io.Discard
	if u.Log != nil {
		log = u.Log(instance)
	}
	for _, name := range slices.Sorted(maps.Keys(keys)) {
		k := keys[name]
		if when != "" && k.UploadAt != when {
			continue
		}
		if _, err := u.Runner.Run(ctx, u.Command(instance, k)); err != nil {
			return fmt.Errorf("upload key %s to %s: %w", name, k.Dest(), err)
		}
		fmt.Fprintf(log, "key %s uploaded to %s (%s:%s, mode %s)\n", name, k.Dest(), k.User, k.Group, k.Permissions)
	}
	return nil
}
