// Package activation switches a host to a new system generation through a
// small agent script (agent.sh) that nix-hive sends over ssh: it is the
// engine's Host for hosts reached by ssh. The agent activates in a detached
// worker, so a dropped ssh session cannot cut an activation off; nix-hive
// reattaches over fresh connections to read the result. A failed
// activation, or one nobody confirms in time (the new system broke the
// network), is rolled back on the host by the agent.
package activation

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nix-hive/nix-hive/internal/engine"
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

// Options tune activations.
type Options struct {
	// ConfirmTimeout > 0 makes the host roll itself back unless nix-hive
	// confirms the new system over a fresh connection within it (for goals
	// that change the running system).
	ConfirmTimeout time.Duration
	// LockTimeout bounds the wait for another activation on the host.
	LockTimeout time.Duration
	// Timeout bounds the whole activation, reattaching included; zero
	// means 10 minutes.
	Timeout time.Duration
	// Poll is the pause between reattach attempts; zero means 2s.
	Poll time.Duration
}

// Hosts makes the Host of each instance: the engine's Hosts over ssh.
type Hosts struct {
	// Runner runs ssh.
	Runner process.Runner
	// SSH is the run's ssh config.
	SSH *sshconfig.Config
	// Options tune the activations.
	Options Options
	// Log returns the writer for an instance's agent log lines; nil
	// discards them.
	Log func(instance string) io.Writer
}

var _ engine.Hosts = (*Hosts)(nil)

// Host implements engine.Hosts.
func (h *Hosts) Host(instance string) engine.Host { return h.Agent(instance) }

// Agent returns the agent of an instance.
func (h *Hosts) Agent(instance string) *Agent {
	o := h.Options
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Minute
	}
	if o.Poll == 0 {
		o.Poll = 2 * time.Second
	}
	log := io.Discard
	if h.Log != nil {
		log = h.Log(instance)
	}
	return &Agent{Runner: h.Runner, SSH: h.SSH, Host: instance, Options: o, Log: log}
}

// Agent talks to the activation agent on one host.
type Agent struct {
	// Runner runs ssh.
	Runner process.Runner
	// SSH is the run's ssh config.
	SSH *sshconfig.Config
	// Host is the instance name (a Host in the ssh config).
	Host string
	// Options tune the activation.
	Options Options
	// Log receives the agent's log lines.
	Log io.Writer
}

var _ engine.Host = (*Agent)(nil)

// Command is the ssh command that runs the agent with args on the host.
func (a *Agent) Command(args ...string) process.Command {
	remote := append([]string{"sh", "-c", install, "nix-hive-agent"}, args...)
	return process.Command{Args: a.SSH.Command(a.Host, remote...), Stdin: strings.NewReader(agentScript)}
}

func (a *Agent) run(ctx context.Context, args ...string) ([]byte, error) {
	return a.Runner.Run(ctx, a.Command(args...))
}

// Status implements engine.Host.
func (a *Agent) Status(ctx context.Context) (engine.HostStatus, error) {
	out, err := a.run(ctx, "status")
	if err != nil {
		return engine.HostStatus{}, fmt.Errorf("read the running system: %w", err)
	}
	kv := ParseLines(out)
	return engine.HostStatus{Current: kv.get("current"), Profile: kv.get("profile")}, nil
}

// ErrBusy means another activation holds the host's lock.
var ErrBusy = errors.New("another nix-hive activation is running on the host")

// Result is how an activation ended.
type Result struct {
	// Status is the agent's final status: activated, rolled-back or failed.
	Status string
	// Reason says why the activation was rolled back or failed.
	Reason string
	// Log holds the last lines of the activation's log on the host.
	Log []string
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
