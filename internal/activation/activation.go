// Package activation switches a host to a new system generation through a
// small agent script (agent.sh) that nix-hive sends over ssh: it is the
// engine's Host for hosts reached by ssh. The agent activates in a detached
// worker (a transient systemd unit where systemd runs), so a dropped ssh
// session cannot cut an activation off; nix-hive reattaches over fresh
// connections, streams the activation's output to the instance's log and
// reads the result. switch-to-configuration's exit codes decide it: 100
// needs a reboot (activated, nothing rolled back), any other failure is
// rolled back or kept as Options.OnFailure says, and a switch lock held by
// another tool makes the instance wait and then fail as busy. An
// activation nobody confirms in time (the new system broke the network)
// is rolled back on the host by the agent. A login that is not root runs
// the agent through passwordless sudo.
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
// from stdin) on the host and runs it, as root, with the arguments that
// follow: directly when the login is root, through sudo -n otherwise, and
// not at all (exit exitNotRoot, naming the user) when sudo asks for a
// password. No value from hive.nix is ever part of it; they arrive as "$@".
// NIX_HIVE_AGENT_ROOT, which only nix-hive's tests set (sudo drops it),
// moves the agent under a test directory.
const install = `if [ "$(id -u)" = 0 ]; then s=; elif sudo -n true 2>/dev/null; then s="sudo -n"; ` +
	`else cat >/dev/null; printf 'not-root=%s\n' "$(id -un)"; exit 77; fi; ` +
	`exec $s sh -c 'umask 077; d=${NIX_HIVE_AGENT_ROOT-}/run/nix-hive; mkdir -p "$d" && ` +
	`cat >"$d/agent.sh.$$" && mv -f "$d/agent.sh.$$" "$d/agent.sh" && exec sh "$d/agent.sh" "$@"' nix-hive-agent "$@"`

// exitNotRoot is install's exit code when the login is not root and
// cannot sudo without a password.
const exitNotRoot = 77

// Options tune activations.
type Options struct {
	// ConfirmTimeout > 0 makes the host roll itself back unless nix-hive
	// confirms the new system over a fresh connection within it (for goals
	// that change the running system).
	ConfirmTimeout time.Duration
	// LockTimeout bounds the wait for another activation on the host, by
	// nix-hive or by any other switch-to-configuration.
	LockTimeout time.Duration
	// Timeout bounds the wait for switch-to-configuration to finish,
	// reattaching included; zero means DefaultTimeout. Past it nix-hive
	// stops waiting and releases the host from confirming: the activation
	// runs on, and its result stays.
	Timeout time.Duration
	// OnFailure is what a switch that fails (exit 2, 4, ...) leads to;
	// "" means Rollback.
	OnFailure Policy
	// Poll is the pause between reattach attempts; zero means 2s.
	Poll time.Duration
	// HoldFor lengthens the confirmation window by the time the health
	// checks may take (they run between activation and confirmation), and
	// opens one for goals that change the running system when
	// ConfirmTimeout is zero, so that a failing check can still be undone.
	HoldFor time.Duration
	// RebootTimeout bounds the wait for a rebooted host; zero means
	// DefaultRebootTimeout.
	RebootTimeout time.Duration
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
		o.Timeout = DefaultTimeout
	}
	if o.OnFailure == "" {
		o.OnFailure = Rollback
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
		return engine.HostStatus{}, a.notRoot(out, err, "read the running system")
	}
	kv := ParseLines(out)
	return engine.HostStatus{Current: kv.get("current"), Profile: kv.get("profile")}, nil
}

// notRoot turns the agent's refusal of a login that is not root and cannot
// sudo into its error; other errors are wrapped with what was being done.
func (a *Agent) notRoot(out []byte, err error, doing string) error {
	var ce *process.CommandError
	if errors.As(err, &ce) && ce.ExitCode == exitNotRoot {
		if user := ParseLines(out).get("not-root"); user != "" {
			return fmt.Errorf("%w: user %s on %s is not root and cannot sudo without a password; "+
				"allow it passwordless sudo on the host, or log in as root (ssh User)", engine.ErrRefused, user, a.Host)
		}
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// ErrBusy means another activation holds the host: nix-hive's own lock or
// switch-to-configuration's. Nothing on the host was changed.
var ErrBusy = errors.New("the host is busy")

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
