package lab

import (
	"context"
	"fmt"

	"github.com/nix-hive/nix-hive/internal/process"
)

// Inside a host, its uplink is called "uplink" and its site link "site".
const (
	hostUplink   = "uplink"
	hostSiteLink = "site"
	siteBridge   = "br0"
)

// ip runs one ip(8) command.
func (l *Lab) ip(ctx context.Context, args ...string) error {
	_, err := l.r.Run(ctx, process.Command{Args: append([]string{"ip"}, args...)})
	return err
}

// steps runs ip commands in order and stops at the first failure.
func (l *Lab) steps(ctx context.Context, cmds ...[]string) error {
	for _, c := range cmds {
		if err := l.ip(ctx, c...); err != nil {
			return err
		}
	}
	return nil
}

// makeSites makes each site's namespace and bridge. A site namespace
// holds no process; it only switches frames between the site's hosts.
func (l *Lab) makeSites(ctx context.Context) error {
	for _, s := range l.sites {
		err := l.steps(ctx,
			[]string{"netns", "add", s.namespace},
			[]string{"-n", s.namespace, "link", "set", "lo", "up"},
			[]string{"-n", s.namespace, "link", "add", siteBridge, "type", "bridge"},
			[]string{"-n", s.namespace, "link", "set", siteBridge, "up"},
		)
		if err != nil {
			return fmt.Errorf("make the network of site %s: %w", s.name, err)
		}
	}
	return nil
}

// makeHostNet makes a host's namespace, its uplink from the runner's
// namespace (public hosts and bastions) and its link to its site's bridge
// (hosts on a site). Nothing forwards between a bastion's two links.
func (l *Lab) makeHostNet(ctx context.Context, h *Host) error {
	ns := h.Namespace
	cmds := [][]string{
		{"netns", "add", ns},
		{"-n", ns, "link", "set", "lo", "up"},
	}
	if h.Uplink != "" {
		cmds = append(cmds,
			[]string{"link", "add", h.Uplink, "type", "veth", "peer", "name", hostUplink, "netns", ns},
			[]string{"addr", "add", h.runnerAddr + "/30", "dev", h.Uplink},
			[]string{"link", "set", h.Uplink, "up"},
			[]string{"-n", ns, "addr", "add", h.Addr + "/30", "dev", hostUplink},
			[]string{"-n", ns, "link", "set", hostUplink, "up"},
		)
	}
	if h.siteLink != "" {
		cmds = append(cmds,
			[]string{"-n", h.siteNamespace, "link", "add", h.siteLink, "type", "veth", "peer", "name", hostSiteLink, "netns", ns},
			[]string{"-n", h.siteNamespace, "link", "set", h.siteLink, "master", siteBridge, "up"},
			[]string{"-n", ns, "addr", "add", h.SiteAddr + "/27", "dev", hostSiteLink},
			[]string{"-n", ns, "link", "set", hostSiteLink, "up"},
		)
	}
	if err := l.steps(ctx, cmds...); err != nil {
		return fmt.Errorf("make the network of host %s: %w", h.Name, err)
	}
	if h.Bastion {
		// A new namespace may inherit forwarding from the machine; a
		// bastion must not route between the runner and its site.
		_, err := l.r.Run(ctx, process.Command{Args: []string{"ip", "netns", "exec", ns, "sh", "-c", "echo 0 > /proc/sys/net/ipv4/ip_forward"}})
		if err != nil {
			return fmt.Errorf("turn forwarding off on bastion %s: %w", h.Name, err)
		}
	}
	return nil
}
