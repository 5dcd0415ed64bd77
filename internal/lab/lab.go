// Package lab builds a fleet of real hosts on one machine, for nix-hive's
// tests and its demo. Each host is a Linux network namespace with its own
// address, a private /nix, /run and /root (bind mounts of directories under
// the lab's directory, in the host's own mount namespace) and a real OpenSSH
// server. Public hosts hang off the runner's (root) namespace on a veth
// pair each; private hosts live on a site, a bridge the runner cannot reach,
// and are reached through the site's bastion with ssh ProxyJump.
//
// Two labs on one machine never collide: each takes a slot (0..255) by
// locking /run/nix-hive-lab/slot-N.lock, and every name and address it
// makes is derived from that slot. A lab whose process died without Close is
// swept by the next New that finds its slot unlocked.
//
// Building a lab needs root and the tools Require checks.
package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nix-hive/nix-hive/internal/process"
)

// Spec describes the hosts of a lab: at most 64 hosts on at most 8 sites
// of at most 30 hosts each.
type Spec struct {
	// Hosts are the hosts to make, in order; the order decides their
	// addresses.
	Hosts []HostSpec
}

// HostSpec describes one host of a lab.
type HostSpec struct {
	// Name is the host's short name: 1-32 characters of a-z, 0-9 and '-'.
	Name string
	// Site is the private network the host lives on; "" makes a public
	// host that the runner reaches directly.
	Site string
	// Bastion gives a host on Site a public uplink as well, so that the
	// runner reaches Site's other hosts through it. Site is required.
	Bastion bool
	// Serve makes the host a store with read-only ssh access as NixOS's
	// nix.sshServe sets it up: it runs a nix-daemon, and ServeUser logs in
	// with the lab key only to run nix-store --serve.
	Serve bool
}

// Lab is a running fleet of hosts. Close removes it.
type Lab struct {
	// Dir is the lab's temporary directory; every file of the lab is in it.
	Dir string
	// Key is the path of an ed25519 private key (mode 0600) that root on
	// every host accepts.
	Key string
	// KnownHosts is the path of a known_hosts file listing every host's key
	// under every address it has.
	KnownHosts string
	// Hosts are the lab's hosts by name.
	Hosts map[string]*Host
	// Slot is the lab's slot number N: its public links are in
	// 10.231.N.0/24, its sites in 10.232.N.0/24.
	Slot int

	r     process.Runner
	order []*Host
	sites []*site
	slot  *slotLock

	closeOnce sync.Once
	mu        sync.Mutex // guards the fields below and every Host's pids
	rec       record
	closed    bool
}

// Host is one host of a lab.
type Host struct {
	// Name is the host's name from the spec.
	Name string
	// Site is the site the host lives on; "" for a public host.
	Site string
	// Bastion is true for a site's bastion.
	Bastion bool
	// Serve is true for a store with read-only access for ServeUser.
	Serve bool
	// Addr is the address to reach the host by: its public uplink address
	// for public hosts and bastions, its site address for private hosts.
	Addr string
	// SiteAddr is the host's address on its site's network; "" for public
	// hosts.
	SiteAddr string
	// Namespace is the name of the host's network namespace (ip netns).
	Namespace string
	// Uplink is the runner's (root namespace) end of the host's uplink
	// veth, for tc or counters; "" for private hosts.
	Uplink string
	// Dir is the host's directory; nix/, run/ and root/ under it are the
	// host's /nix, /run and /root.
	Dir string
	// HostKey is the host's public key line ("ssh-ed25519 AAAA...").
	HostKey string

	runnerAddr    string // the runner's address on the uplink /30
	siteNamespace string // namespace holding the site's bridge
	siteLink      string // the bridge's end of the host's site veth
	holderPid     int    // the process holding the host's mount namespace
	sshdPid       int    // the listening sshd; 0 while stopped
}

// readyTimeout bounds how long New waits for one host to come up.
const readyTimeout = 20 * time.Second

// New builds the lab spec describes, running every command with r, and
// returns when every host's sshd accepts connections. On any error it
// removes whatever it made and returns the error.
func New(ctx context.Context, r process.Runner, spec Spec) (_ *Lab, err error) {
	if err := validate(spec); err != nil {
		return nil, err
	}
	sl, err := acquireSlot(ctx, r)
	if err != nil {
		return nil, err
	}
	l := &Lab{Slot: sl.n, Hosts: map[string]*Host{}, r: r, slot: sl}
	defer func() {
		if err != nil {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			if cerr := l.Close(cctx); cerr != nil {
				err = errors.Join(err, fmt.Errorf("clean up the failed lab: %w", cerr))
			}
		}
	}()

	if err := l.plan(spec); err != nil {
		return nil, err
	}
	if err := l.build(ctx); err != nil {
		return nil, err
	}
	return l, nil
}

// plan lays the lab out in a new directory and saves the record of what
// it is about to make.
func (l *Lab) plan(spec Spec) error {
	dir, err := os.MkdirTemp("", fmt.Sprintf("nix-hive-lab-%d-", l.Slot))
	if err != nil {
		return fmt.Errorf("make lab directory: %w", err)
	}
	l.Dir = dir
	l.Key = filepath.Join(dir, "id_ed25519")
	l.KnownHosts = filepath.Join(dir, "known_hosts")
	l.order, l.sites = layout(spec, l.Slot, dir)
	for _, h := range l.order {
		l.Hosts[h.Name] = h
	}
	l.rec = record{Slot: l.Slot, Owner: os.Getpid(), Dir: dir}
	for _, s := range l.sites {
		l.rec.Namespaces = append(l.rec.Namespaces, s.namespace)
	}
	for _, h := range l.order {
		l.rec.Namespaces = append(l.rec.Namespaces, h.Namespace)
		if h.Uplink != "" {
			l.rec.Links = append(l.rec.Links, h.Uplink)
		}
	}
	if err := l.saveRecord(); err != nil {
		return err
	}
	if strings.ContainsAny(dir, " \t\"'#%~\\") {
		return fmt.Errorf("lab directory %q has characters sshd_config cannot hold; set TMPDIR to a plain path", dir)
	}
	return nil
}

// build makes the planned networks, keys and hosts, and starts every
// host's sshd.
func (l *Lab) build(ctx context.Context) error {
	if err := l.makeSites(ctx); err != nil {
		return err
	}
	err := parallel(len(l.order)+1, func(i int) error {
		if i == len(l.order) {
			return l.makeLabKey(ctx)
		}
		h := l.order[i]
		return errors.Join(l.makeHostDirs(ctx, h), l.makeHostNet(ctx, h))
	})
	if err != nil {
		return err
	}
	if err := l.writeKeyFiles(); err != nil {
		return err
	}
	return parallel(len(l.order), func(i int) error {
		h := l.order[i]
		if err := l.startHolder(ctx, h); err != nil {
			return err
		}
		if err := l.startServe(ctx, h); err != nil {
			return err
		}
		return l.StartSSH(ctx, h.Name)
	})
}

// parallel runs f(0..n-1) at once and joins their errors.
func parallel(n int, f func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = f(i) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// host looks a host up by name.
func (l *Lab) host(name string) (*Host, error) {
	h, ok := l.Hosts[name]
	if !ok {
		return nil, fmt.Errorf("lab has no host %q", name)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, fmt.Errorf("host %s: the lab is closed", name)
	}
	return h, nil
}
