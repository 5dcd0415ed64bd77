// Package hosttrust checks, before any host is touched, that nix on each
// instance that substitutes from a store will honour the store nix-hive
// names. nix-hive passes the store as extra-substituters and its key as
// extra-trusted-public-keys on the command line; nix honours both only for
// root and for the users its nix-daemon trusts (nix.settings.trusted-users
// on NixOS), and silently ignores them for anyone else, so that the
// substitution fails with "no substituter can build it". A login that is
// root, or may sudo without a password (nix-hive then runs nix through
// sudo -n), is trusted.
package hosttrust

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/nix-hive/nix-hive/internal/inventory"
	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

// probe is the constant remote shell text that says who nix runs as on
// the host: "root", "sudo", or the login's name and groups and the
// trusted-users nix reads there.
const probe = `if [ "$(id -u)" = 0 ]; then echo root; exit 0; fi; ` +
	`if sudo -n true 2>/dev/null; then echo sudo; exit 0; fi; ` +
	`echo "user $(id -un)"; echo "groups $(id -Gn)"; ` +
	`nix --extra-experimental-features nix-command show-config 2>/dev/null | grep '^trusted-users = ' || true`

// Answer is what the probe found on a host.
type Answer struct {
	// Root is true when nix runs as root there (the login is root or may
	// sudo without a password).
	Root bool
	// User and Groups are the login's name and groups otherwise.
	User   string
	Groups []string
	// TrustedUsers is nix's trusted-users setting on the host; nil when
	// nix did not say.
	TrustedUsers []string
}

// Parse reads the probe's output.
func Parse(out []byte) Answer {
	var a Answer
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "root" || line == "sudo":
			a.Root = true
		case strings.HasPrefix(line, "user "):
			a.User = strings.TrimSpace(strings.TrimPrefix(line, "user "))
		case strings.HasPrefix(line, "groups "):
			a.Groups = strings.Fields(strings.TrimPrefix(line, "groups "))
		case strings.HasPrefix(line, "trusted-users ="):
			a.TrustedUsers = strings.Fields(strings.TrimPrefix(line, "trusted-users ="))
			if a.TrustedUsers == nil {
				a.TrustedUsers = []string{}
			}
		}
	}
	return a
}

// Trusted reports whether nix honours the login's extra substituters and
// keys: it runs as root, or trusted-users names the login, one of its
// groups (@group) or everyone (*). An answer without trusted-users (nix
// did not say) counts as trusted: the check only refuses what it knows.
func (a Answer) Trusted() bool {
	if a.Root || a.TrustedUsers == nil {
		return true
	}
	for _, t := range a.TrustedUsers {
		if t == "*" || t == a.User {
			return true
		}
		if g, ok := strings.CutPrefix(t, "@"); ok && slices.Contains(a.Groups, g) {
			return true
		}
	}
	return false
}

// maxAtOnce bounds the ssh connections the check opens at once.
const maxAtOnce = 32

// Checker asks the instances over ssh, through the run's ssh config.
type Checker struct {
	// Runner runs ssh.
	Runner process.Runner
	// SSH is the run's ssh config.
	SSH *sshconfig.Config
}

// Instances returns the instances the check asks: those with a store
// whose ssh User is not root (a root login needs no asking).
func Instances(inv *inventory.Inventory) []string {
	var out []string
	for _, n := range inv.InstanceNames() {
		i := inv.Instances[n]
		if i.Store != "" && i.SSH["User"] != "root" {
			out = append(out, n)
		}
	}
	return out
}

// Check asks every instance of Instances(inv), maxAtOnce at a time, and
// returns an error naming each whose login nix does not trust, with the
// setting that fixes it. An instance that cannot be reached is left to the
// deployment, which reports it.
func (c *Checker) Check(ctx context.Context, inv *inventory.Inventory) error {
	names := Instances(inv)
	errs := make([]error, len(names))
	slots := make(chan struct{}, maxAtOnce)
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			errs[i] = c.checkOne(ctx, inv, n)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// checkOne asks one instance.
func (c *Checker) checkOne(ctx context.Context, inv *inventory.Inventory, name string) error {
	out, err := c.Runner.Run(ctx, process.Command{Args: c.SSH.Command(name, "sh", "-c", probe)})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("ask instance %s whether nix trusts its login: %w", name, ctx.Err())
		}
		return nil // unreachable: the deployment reports it
	}
	a := Parse(out)
	if a.Trusted() {
		return nil
	}
	store := inv.Instances[name].Store
	return fmt.Errorf("instance %s: user %s is not root, cannot sudo without a password and is not a trusted user of nix there (trusted-users = %s), so nix would ignore store %s's substituter and key and refuse its paths; on the host set nix.settings.trusted-users = [ %q ]; (or give the user passwordless sudo, or log in as root)",
		name, a.User, strings.Join(a.TrustedUsers, " "), store, a.User)
}
