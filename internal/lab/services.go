package lab

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/nix-hive/nix-hive/internal/process"
)

// ServeUser is the login a Serve host gives read-only access to its store
// with, as NixOS's nix.sshServe makes it: sshd forces every session of
// this user to run `nix-store --serve` (without --write), which reads the
// store through the host's nix-daemon, as an untrusted user.
const ServeUser = "nix-ssh"

// serveUserID is ServeUser's uid and gid on the hosts.
const serveUserID = 64124

// serveMatch is the sshd_config block of a Serve host, as nix.sshServe
// writes it: the lab key (the one every host's root holds) logs ServeUser
// in, and only to run nix-store --serve.
const serveMatch = `Match User ` + ServeUser + `
  AllowAgentForwarding no
  AllowTcpForwarding no
  PermitTTY no
  PermitTunnel no
  X11Forwarding no
  ForceCommand nix-store --serve
Match All
`

// Start runs a long-lived program inside a host — in its network, mount
// and UTS namespaces, detached, its output appended to NAME.log in the
// host's Dir — and returns once it runs. It lives until the lab closes or
// the host goes down (StopSSH, a reboot).
func (l *Lab) Start(ctx context.Context, host, name string, args ...string) error {
	h, err := l.host(host)
	if err != nil {
		return fmt.Errorf("start a service: %w", err)
	}
	if !namePattern.MatchString(name) || len(args) == 0 {
		return fmt.Errorf("start service %q on host %s: want a plain name and a command", name, h.Name)
	}
	l.mu.Lock()
	holder := h.holderPid
	l.mu.Unlock()
	if holder == 0 || !alive(holder) {
		return fmt.Errorf("start %s on host %s: the host is gone", name, h.Name)
	}
	pidFile := filepath.Join(h.Dir, name+".pid")
	logFile := filepath.Join(h.Dir, name+".log")
	logStart := fileSize(logFile)
	// The script writes its pid, then becomes the program: $1 pid file,
	// $2 log, the rest the command.
	const script = `p=$1 log=$2; shift 2; echo "$$" >"$p"; exec "$@" </dev/null >>"$log" 2>&1`
	cmd := append([]string{"nsenter", "-t", strconv.Itoa(holder), "-n", "-m", "-u", "--",
		"setsid", "-f", "sh", "-c", script, "sh", pidFile, logFile}, args...)
	if _, err := l.r.Run(ctx, process.Command{Args: cmd}); err != nil {
		return fmt.Errorf("start %s on host %s: %w", name, h.Name, err)
	}
	pid, err := waitPidFile(ctx, pidFile, logFile, logStart, nil)
	if err != nil {
		return fmt.Errorf("start %s on host %s: %w", name, h.Name, err)
	}
	if !alive(pid) {
		return fmt.Errorf("start %s on host %s: it exited%s", name, h.Name, logTail(logFile, logStart))
	}
	return l.addPid(pid)
}

// startServe starts a Serve host's nix-daemon, through which ServeUser's
// nix-store --serve reads the store.
func (l *Lab) startServe(ctx context.Context, h *Host) error {
	if !h.Serve {
		return nil
	}
	return l.Start(ctx, h.Name, "nix-daemon", "nix-daemon")
}
