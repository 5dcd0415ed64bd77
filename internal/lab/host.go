package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/nix-hive/nix-hive/internal/process"
)

// Exec runs a command inside a host, in its network, mount and UTS
// namespaces (so it sees the host's /nix, /run and /root), and returns its
// standard output. It works while the host's sshd is stopped.
func (l *Lab) Exec(ctx context.Context, host string, args ...string) ([]byte, error) {
	h, err := l.host(host)
	if err != nil {
		return nil, fmt.Errorf("run a command on a lab host: %w", err)
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("run a command on host %s: no command given", h.Name)
	}
	l.mu.Lock()
	holder := h.holderPid
	l.mu.Unlock()
	if holder == 0 || !alive(holder) {
		return nil, fmt.Errorf("run %s on host %s: the host is gone", args[0], h.Name)
	}
	cmd := append([]string{"nsenter", "-t", strconv.Itoa(holder), "-n", "-m", "-u", "--"}, args...)
	out, err := l.r.Run(ctx, process.Command{Args: cmd})
	if err != nil {
		return out, fmt.Errorf("run %s on host %s: %w", args[0], h.Name, err)
	}
	return out, nil
}

// TxBytes returns how many bytes have been sent into the host over its
// uplink: for public hosts and bastions the runner's end of the uplink
// (for a bastion, everything the runner sent into its site); for private
// hosts the bridge's end of its site link (everything the site sent it).
func (l *Lab) TxBytes(ctx context.Context, host string) (uint64, error) {
	h, err := l.host(host)
	if err != nil {
		return 0, fmt.Errorf("count bytes sent: %w", err)
	}
	if h.Uplink != "" {
		data, err := os.ReadFile("/sys/class/net/" + h.Uplink + "/statistics/tx_bytes")
		if err != nil {
			return 0, fmt.Errorf("count bytes sent to host %s: %w", h.Name, err)
		}
		n, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("count bytes sent to host %s: %w", h.Name, err)
		}
		return n, nil
	}
	out, err := l.r.Run(ctx, process.Command{Args: []string{"ip", "-n", h.siteNamespace, "-json", "-stats", "link", "show", "dev", h.siteLink}})
	if err != nil {
		return 0, fmt.Errorf("count bytes sent to host %s: %w", h.Name, err)
	}
	n, err := parseTxBytes(out)
	if err != nil {
		return 0, fmt.Errorf("count bytes sent to host %s: %w", h.Name, err)
	}
	return n, nil
}

// parseTxBytes reads the transmitted bytes from `ip -json -stats link show
// dev IF`.
func parseTxBytes(out []byte) (uint64, error) {
	var links []struct {
		Stats64 *struct {
			Tx struct {
				Bytes uint64 `json:"bytes"`
			} `json:"tx"`
		} `json:"stats64"`
	}
	if err := json.Unmarshal(out, &links); err != nil {
		return 0, fmt.Errorf("parse ip -json -stats output: %w", err)
	}
	if len(links) != 1 || links[0].Stats64 == nil {
		return 0, fmt.Errorf("ip -json -stats output has no counters for one link: %.200s", out)
	}
	return links[0].Stats64.Tx.Bytes, nil
}

// SetLink takes the host's uplink down (up=false) or up again: for public
// hosts and bastions the runner's end of the uplink, for private hosts the
// bridge's end of its site link. Connections over it stall while it is down.
func (l *Lab) SetLink(ctx context.Context, host string, up bool) error {
	h, err := l.host(host)
	if err != nil {
		return fmt.Errorf("set a lab link: %w", err)
	}
	state, verb := "down", "take down"
	if up {
		state, verb = "up", "bring up"
	}
	args := []string{"ip", "link", "set", "dev", h.Uplink, state}
	if h.Uplink == "" {
		args = []string{"ip", "-n", h.siteNamespace, "link", "set", "dev", h.siteLink, state}
	}
	if _, err := l.r.Run(ctx, process.Command{Args: args}); err != nil {
		return fmt.Errorf("%s the link of host %s: %w", verb, h.Name, err)
	}
	return nil
}
