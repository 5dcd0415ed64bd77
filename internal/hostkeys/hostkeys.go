// Package hostkeys checks, before any host is touched, that ssh will accept
// every host a run connects to (the instances and the jump hosts in front of
// them): with host-key checking on, an unknown key would otherwise fail that
// host half-way through a run, after the others have been changed.
package hostkeys

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

// Target is where ssh connects for one host alias, as `ssh -G` resolves it.
type Target struct {
	// HostName is the address or name connected to.
	HostName string
	// Port is the port connected to.
	Port string
	// KeyAlias is the name the key is looked up by (HostKeyAlias), if set.
	KeyAlias string
	// ProxyJump lists the jump hosts ("none" or empty for none).
	ProxyJump []string
	// StrictHostKeyChecking is ssh's setting for the host.
	StrictHostKeyChecking string
	// KnownHostsFiles are the files ssh reads keys from.
	KnownHostsFiles []string
}

// LookupName is the name a known_hosts entry for the target has:
// HostKeyAlias, else the host name, with the port in brackets unless 22.
func (t Target) LookupName() string {
	name := t.HostName
	if t.KeyAlias != "" {
		name = t.KeyAlias
	}
	if t.Port != "" && t.Port != "22" {
		return "[" + name + "]:" + t.Port
	}
	return name
}

// ParseG parses the output of `ssh -G HOST`.
func ParseG(out []byte) Target {
	var t Target
	for _, line := range strings.Split(string(out), "\n") {
		key, value, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch strings.ToLower(key) {
		case "hostname":
			t.HostName = value
		case "port":
			t.Port = value
		case "hostkeyalias":
			t.KeyAlias = value
		case "proxyjump":
			if value != "none" {
				t.ProxyJump = strings.Split(value, ",")
			}
		case "stricthostkeychecking":
			t.StrictHostKeyChecking = value
		case "userknownhostsfile", "globalknownhostsfile":
			t.KnownHostsFiles = append(t.KnownHostsFiles, strings.Fields(value)...)
		}
	}
	return t
}

// jumpAlias turns a ProxyJump entry ([user@]host[:port]) into the alias
// ssh resolves it by, and the port given, if any.
func jumpAlias(entry string) (alias, port string) {
	if i := strings.LastIndex(entry, "@"); i >= 0 {
		entry = entry[i+1:]
	}
	if strings.HasPrefix(entry, "[") {
		if end := strings.Index(entry, "]"); end > 0 {
			host, rest := entry[1:end], entry[end+1:]
			return host, strings.TrimPrefix(rest, ":")
		}
	}
	if h, p, ok := strings.Cut(entry, ":"); ok && !strings.Contains(p, ":") {
		return h, p
	}
	return entry, ""
}

// ErrUnknownHost is wrapped by Check's error for each host whose key is in
// none of the known_hosts files.
var ErrUnknownHost = errors.New("host key is not known")

// Checker resolves hosts with `ssh -G` and looks their keys up with
// `ssh-keygen -F`.
type Checker struct {
	// Runner runs ssh and ssh-keygen.
	Runner process.Runner
	// SSH is the run's ssh config.
	SSH *sshconfig.Config
}

// Check verifies that every host in aliases, and every jump host in front
// of them, has a known key (unless its StrictHostKeyChecking is not yes).
// It reports every unknown host at once, naming the instance it serves.
func (c *Checker) Check(ctx context.Context, aliases []string) error {
	seen := map[string]bool{}
	var errs []error
	var visit func(alias, port, via string)
	visit = func(alias, port, via string) {
		key := alias + ":" + port
		if seen[key] {
			return
		}
		seen[key] = true
		args := []string{"ssh", "-G", "-F", c.SSH.Path}
		if port != "" {
			args = append(args, "-p", port)
		}
		out, err := c.Runner.Run(ctx, process.Command{Args: append(args, alias)})
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: resolve ssh settings for %s: %w", via, alias, err))
			return
		}
		t := ParseG(out)
		for _, j := range t.ProxyJump {
			ja, jp := jumpAlias(j)
			visit(ja, jp, via)
		}
		if t.StrictHostKeyChecking != "yes" && t.StrictHostKeyChecking != "true" {
			return
		}
		if !c.known(ctx, t) {
			what := alias
			if alias != via {
				what = fmt.Sprintf("jump host %s of %s", alias, via)
			}
			errs = append(errs, fmt.Errorf("%s (%s): %w in %s; add it (ssh-keyscan %s >> known_hosts, after checking it) or pass --accept-new-host-keys",
				what, t.LookupName(), ErrUnknownHost, filesText(t.KnownHostsFiles), t.HostName))
		}
	}
	for _, a := range aliases {
		visit(a, "", a)
	}
	return errors.Join(errs...)
}

// known reports whether any of the target's known_hosts files has its key.
func (c *Checker) known(ctx context.Context, t Target) bool {
	for _, f := range existing(t.KnownHostsFiles) {
		if _, err := c.Runner.Run(ctx, process.Command{Args: []string{"ssh-keygen", "-F", t.LookupName(), "-f", f}}); err == nil {
			return true
		}
	}
	return false
}

// existing keeps the files that exist, with ~ expanded.
func existing(files []string) []string {
	home, _ := os.UserHomeDir()
	var out []string
	for _, f := range files {
		if strings.HasPrefix(f, "~/") {
			f = home + f[1:]
		}
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
