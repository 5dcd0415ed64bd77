// Package distribute moves closures from the runner towards the instances
// with nix: to a store once — signed on the runner first, so that a binary
// cache receives each path with its signature in one upload, then signed
// again where it lies in the store, so that paths the store already held
// (which nix copy skips) get the signature too — and onto each instance — substituted from its store, checking the store's
// key, or copied straight from the runner. Every ssh connection, nix's
// included, goes through the run's ssh config. On the instance the closure
// gets a GC root (/nix/var/nix/gcroots/nix-hive/NAME) before it arrives,
// which the activation agent removes once the closure is the system
// profile; a login that is not root runs nix there through passwordless
// sudo when it has it, else as itself (for a host whose nix-daemon trusts
// it).
package distribute

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/inventory"
	"github.com/nix-hive/nix-hive/internal/nixcmd"
	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

// Nix is the engine's Distributor on nix and ssh.
type Nix struct {
	// Runner runs nix and ssh.
	Runner process.Runner
	// Inventory has the stores and instances.
	Inventory *inventory.Inventory
	// SSH is the run's ssh config.
	SSH *sshconfig.Config
	// SigningKey is a nix secret key file closures are signed with before
	// they are pushed to stores; empty for none.
	SigningKey string
	// Log returns the writer for an instance's or a store's output; nil
	// discards it.
	Log func(name string) io.Writer
}

var _ engine.Distributor = (*Nix)(nil)

// PushCommands are the commands that push path to store: with a key, sign
// the closure on the runner, copy it (its signatures travel with it), and
// sign it in the store, which covers the paths the copy skipped because the
// store had them, unsigned or signed by another key; without a key, copy.
func (n *Nix) PushCommands(store, path string) []process.Command {
	log := n.log("store " + store)
	url := n.Inventory.Stores[store].URL
	env := n.SSH.NixEnv(sshconfig.URLHost(url)) // the store host's ssh config, for an ssh store
	copyTo := process.Command{Args: nixcmd.CopyTo(url, path), Env: env, Stderr: log}
	if n.SigningKey == "" {
		return []process.Command{copyTo}
	}
	return []process.Command{
		{Args: nixcmd.Sign(n.SigningKey, path), Stderr: log},
		copyTo,
		{Args: nixcmd.SignIn(url, n.SigningKey, path), Env: env, Stderr: log},
	}
}

// pinAndRun is the constant remote shell text that gives the store path $1
// a GC root on the instance, then runs the rest of its arguments — both as
// root through sudo -n when the login is not root and may sudo. The root
// is made before the path exists, so it is protected from the moment it
// arrives; a login that cannot make it goes on without one.
const pinAndRun = `p=$1; shift; s=; if [ "$(id -u)" != 0 ] && sudo -n true 2>/dev/null; then s="sudo -n"; fi; ` +
	`{ $s mkdir -p /nix/var/nix/gcroots/nix-hive && $s ln -sfn "$p" "/nix/var/nix/gcroots/nix-hive/${p##*/}"; } 2>/dev/null; exec $s "$@"`

// remoteNixStore is the nix-store an ssh:// store runs on an instance whose
// login is not root: through sudo -n where the login may, else itself.
const remoteNixStore = `sh -c 'if [ "$(id -u)" != 0 ] && sudo -n true 2>/dev/null; then exec sudo -n nix-store "$@"; fi; exec nix-store "$@"' sh`

// CopyCommands are the commands that bring path onto instance: from its
// store in one remote command that pins the path first, or pinning it and
// then copying from the runner.
func (n *Nix) CopyCommands(instance, path string) []process.Command {
	inst := n.Inventory.Instances[instance]
	pin := func(args ...string) process.Command {
		remote := append([]string{"sh", "-c", pinAndRun, "sh", path}, args...)
		return process.Command{Args: n.SSH.Command(instance, remote...), Stderr: n.log(instance)}
	}
	if inst.Store != "" {
		s := n.Inventory.Stores[inst.Store]
		return []process.Command{pin(nixcmd.Substitute(path, s.Substituter, s.PublicKey)...)}
	}
	url := "ssh://" + instance
	if user := inst.SSH["User"]; user != "" && user != "root" {
		url += "?remote-program=" + queryEscape(remoteNixStore)
	}
	copyTo := nixcmd.CopyTo
	if n.Inventory.SubstituteOnDestination {
		copyTo = nixcmd.CopyToSubstituting
	}
	return []process.Command{pin("true"), {Args: copyTo(url, path), Env: n.SSH.NixEnv(instance), Stderr: n.log(instance)}}
}

// queryEscape escapes s for a store URL's query: every byte but letters,
// digits and -._~ as %XX (nix decodes it; a + would stay a +).
func queryEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// Push implements engine.Distributor.
func (n *Nix) Push(ctx context.Context, store, path string) error {
	for _, c := range n.PushCommands(store, path) {
		if _, err := n.Runner.Run(ctx, c); err != nil {
			return fmt.Errorf("push to store %s (%s): %w", store, n.Inventory.Stores[store].URL, err)
		}
	}
	return nil
}

// Copy implements engine.Distributor.
func (n *Nix) Copy(ctx context.Context, instance, path string) error {
	for _, c := range n.CopyCommands(instance, path) {
		if err := n.copyOne(ctx, instance, path, c); err != nil {
			return err
		}
	}
	return nil
}

// copyOne runs one command of a copy and describes its failure.
func (n *Nix) copyOne(ctx context.Context, instance, path string, c process.Command) error {
	if _, err := n.Runner.Run(ctx, c); err != nil {
		inst := n.Inventory.Instances[instance]
		if inst.Store == "" {
			return fmt.Errorf("copy %s to %s: %w", path, instance, err)
		}
		return fmt.Errorf("substitute %s on %s from store %s (%s): %w", path, instance, inst.Store, n.Inventory.Stores[inst.Store].Substituter, err)
	}
	return nil
}

func (n *Nix) log(name string) io.Writer {
	if n.Log == nil {
		return io.Discard
	}
	return n.Log(name)
}
