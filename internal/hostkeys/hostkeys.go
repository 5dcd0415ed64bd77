// Package hostkeys checks, before any host is touched, that ssh will accept
// every host a run connects to (the instances and the jump hosts in front
// of them): with host-key checking on, an unknown key would otherwise fail
// that host half-way through a run, after the others have been changed.
//
// The check runs in-process, on the settings nix-hive generated itself
// (sshconfig.Config.Resolve) and an index of the known_hosts files, so its
// cost grows linearly with the fleet: no process per host.
package hostkeys

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

// ErrUnknownHost is wrapped by Check's error for each host whose key is in
// none of the known_hosts files.
var ErrUnknownHost = errors.New("host key is not known")

// Checker resolves hosts with the run's ssh config and looks their keys
// up in the known_hosts files.
type Checker struct {
	// SSH is the run's ssh config.
	SSH *sshconfig.Config
	// Hint says how to make a host known; empty means the command line's
	// advice (ssh-keyscan into known_hosts, or --accept-new-host-keys).
	Hint string
}

// DefaultHint is the command line's advice for an unknown host key; %s is
// the host's address.
const DefaultHint = "add it (ssh-keyscan %s >> known_hosts, after checking it) or pass --accept-new-host-keys"

// hop is one host to check: an alias (and port) and the instance it serves.
type hop struct{ alias, port, via string }

// Check verifies that every host in aliases, and every jump host in front
// of them, has a known key — unless its StrictHostKeyChecking lets ssh
// accept a new one (accept-new, or no when hive.nix says so). It reports
// every unknown host at once, naming the instance it serves.
func (c *Checker) Check(ctx context.Context, aliases []string) error {
	seen := map[string]bool{}
	var queue []hop
	for _, a := range aliases {
		queue = append(queue, hop{alias: a, via: a})
	}
	indexes := map[string]*KnownHosts{}
	var errs []error
	for i := 0; i < len(queue); i++ {
		h := queue[i]
		if key := strings.ToLower(h.alias) + ":" + h.port; seen[key] {
			continue
		} else {
			seen[key] = true
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		t := c.SSH.Resolve(h.alias, h.port)
		for _, j := range t.ProxyJump {
			ja, jp := sshconfig.SplitJump(j)
			queue = append(queue, hop{alias: ja, port: jp, via: h.via})
		}
		if !strict(t.StrictHostKeyChecking) {
			continue
		}
		known, err := index(indexes, t.KnownHostsFiles)
		if err != nil {
			return err
		}
		if !known.Known(lookupName(t)) {
			errs = append(errs, c.unknown(h, t))
		}
	}
	return errors.Join(errs...)
}

// strict reports whether ssh refuses a host whose key it does not know:
// yes, and ask (nix-hive's ssh runs in batch mode, where ssh cannot ask).
func strict(setting string) bool {
	switch setting {
	case "yes", "true", "ask":
		return true
	}
	return false
}

// index returns the index of files, reading them on first use.
func index(indexes map[string]*KnownHosts, files []string) (*KnownHosts, error) {
	key := strings.Join(files, "\x00")
	if k, ok := indexes[key]; ok {
		return k, nil
	}
	k, err := ReadKnownHosts(files)
	if err != nil {
		return nil, err
	}
	indexes[key] = k
	return k, nil
}

// lookupName is the name ssh looks the target's key up by: HostKeyAlias
// as it is, else the host name with the port in brackets unless 22.
func lookupName(t sshconfig.Target) string {
	if t.KeyAlias != "" {
		return t.KeyAlias
	}
	return LookupName(t.HostName, t.Port)
}

// unknown is the error for a host whose key is not known.
func (c *Checker) unknown(h hop, t sshconfig.Target) error {
	what := h.alias
	if h.alias != h.via {
		what = fmt.Sprintf("jump host %s of %s", h.alias, h.via)
	}
	hint := c.Hint
	if hint == "" {
		hint = DefaultHint
	}
	return fmt.Errorf("%s (%s): %w in %s; %s",
		what, lookupName(t), ErrUnknownHost, filesText(t.KnownHostsFiles), fmt.Sprintf(hint, t.HostName))
}

// existing keeps the files that exist.
func existing(files []string) []string {
	var out []string
	for _, f := range files {
		if _, err := os.Stat(f); err == nil {
			out = append(out, f)
		}
	}
	return out
}

// filesText names the known_hosts files for an error message.
func filesText(files []string) string {
	if ex := existing(files); len(ex) > 0 {
		return strings.Join(ex, ", ")
	}
	return "any known_hosts file (none of " + strings.Join(files, ", ") + " exists)"
}
