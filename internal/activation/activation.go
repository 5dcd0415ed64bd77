// Package activation switches a host to a new system generation through a
// small agent script (agent.sh) that nix-hive sends over ssh. The agent
// activates in a detached worker, so a dropped ssh session cannot cut an
// activation off; nix-hive reattaches over fresh connections to read the
// result. A failed activation, or one nobody confirms in time (the new
// system broke the network), is rolled back on the host by the agent.
package activation

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

//go:embed agent.sh
var agentScript string

// install is the constant remote shell text that stores the agent (read
// from stdin) on the host and runs it with the arguments that follow. No
// value from hive.nix is ever part of it; they arrive as "$@".
const install = `umask 077; mkdir -p /run/nix-hive && cat >/run/nix-hive/agent.sh.$$ && ` +
	`mv -f /run/nix-hive/agent.sh.$$ /run/nix-hive/agent.sh && exec sh /run/nix-hive/agent.sh "$@"`

// Goal is what switch-to-configuration is asked to do.
type Goal string

// The activation goals, with nixos-rebuild's meanings.
const (
	Switch      Goal = "switch"       // set the profile, activate now and at boot
	Boot        Goal = "boot"         // set the profile, activate at next boot
	Test        Goal = "test"         // activate now, leave the profile
	DryActivate Goal = "dry-activate" // show what would change
)

// Agent talks to the activation agent on one host.
type Agent struct {
	// Runner runs ssh.
	Runner process.Runner
	// SSH is the run's ssh config.
	SSH *sshconfig.Config
	// Host is the instance name (a Host in the ssh config).
	Host string
	// Log receives the agent's log lines and ssh's standard error.
	Log func(format string, args ...any)
}

// HostStatus is what a host runs now.
type HostStatus struct {
	// Current is where /run/current-system points ("" if nowhere).
	Current string
	// Profile is where the system profile points ("" if nowhere).
	Profile string
}

// Unchanged reports whether activating path with goal would change nothing.
func (s HostStatus) Unchanged(path string, goal Goal) bool {
	switch goal {
	case Switch:
		return s.Current == path && s.Profile == path
	case Boot:
		return s.Profile == path
	case Test:
		return s.Current == path
	}
	return false
}

func (a *Agent) run(ctx context.Context, args ...string) ([]byte, error) {
	remote := append([]string{"sh", "-c", install, "nix-hive-agent"}, args...)
	return a.Runner.Run(ctx, process.Command{
		Args:  a.SSH.Command(a.Host, remote...),
		Stdin: strings.NewReader(agentScript),
	})
}

// Status reads what the host runs.
func (a *Agent) Status(ctx context.Context) (HostStatus, error) {
	out, err := a.run(ctx, "status")
	if err != nil {
		return HostStatus{}, fmt.Errorf("read the running system: %w", err)
	}
	kv := ParseLines(out)
	return HostStatus{Current: kv.get("current"), Profile: kv.get("profile")}, nil
}

// Lines are the key=value lines the agent prints.
type Lines []KeyValue

// KeyValue is one line of agent output.
type KeyValue struct{ Key, Value string }

func (l Lines) get(key string) string {
	for _, kv := range l {
		if kv.Key == key {
			return kv.Value
		}
	}
	return ""
}

func (l Lines) all(key string) []string {
	var out []string
	for _, kv := range l {
		if kv.Key == key {
			out = append(out, kv.Value)
		}
	}
	return out
}

// ParseLines parses the agent's key=value output; other lines are dropped.
func ParseLines(out []byte) Lines {
	var l Lines
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && k != "" && !strings.ContainsAny(k, " \t") {
			l = append(l, KeyValue{k, v})
		}
	}
	return l
}

// ErrBusy means another activation holds the host's lock.
var ErrBusy = errors.New("another nix-hive activation is running on the host")

// ErrRolledBack means the activation failed or was not confirmed, and the
// host went back to its previous generation.
var ErrRolledBack = errors.New("rolled back to the previous generation")

// Options tune Activate.
type Options struct {
	// ConfirmTimeout > 0 makes the host roll itself back unless nix-hive
	// confirms the new system over a fresh connection within it (switch and
	// test only).
	ConfirmTimeout time.Duration
	// LockTimeout bounds the wait for another activation on the host.
	LockTimeout time.Duration
	// Timeout bounds the whole activation, reattaching included.
	Timeout time.Duration
	// Poll is the pause between reattach attempts; zero means 2s.
	Poll time.Duration
}

// Result is how an activation ended.
type Result struct {
	// Status is the agent's final status: activated, rolled-back or failed.
	Status string
	// Reason says why the activation was rolled back or failed.
	Reason string
	// Log holds the last lines of the activation's log on the host.
	Log []string
}
