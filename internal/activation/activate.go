package activation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nix-hive/nix-hive/internal/ctxtime"
	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/goal"
	"github.com/nix-hive/nix-hive/internal/process"
)

// exitBusy is the agent's exit code when the host's lock is held.
const exitBusy = 75

// The agent's statuses.
const (
	statusRunning   = "running"
	statusAwaiting  = "awaiting-confirmation"
	statusActivated = "activated"
	statusRolled    = "rolled-back"
	statusFailed    = "failed"
	statusBusy      = "busy"
)

// NewID returns a fresh activation id.
func NewID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// StartArgs are the agent's arguments that start activating path with the
// goal: every decision the goal and the policy imply is made here and
// passed as a flag.
func StartArgs(id, path string, g goal.Goal, confirm time.Duration, onFailure Policy) []string {
	profile := "no"
	if g.SetsProfile() {
		profile = "yes"
	}
	if !g.NeedsConfirmation() {
		confirm = 0
	}
	if onFailure == "" {
		onFailure = Rollback
	}
	return []string{"start", id, path, string(g), profile, string(g.Rollback()),
		strconv.Itoa(int(confirm.Seconds())), string(onFailure)}
}

// Activate implements engine.Host: it starts the activation in the
// agent's detached worker, streams its output to the log and follows it
// until it awaits confirmation or ends. It is not cut off when ctx is
// cancelled: an activation under way runs to its end, because stopping
// half-way would leave the host between generations. After
// Options.Timeout nix-hive stops waiting and releases the host from
// confirming, so a slow activation that succeeds is kept.
func (a *Agent) Activate(ctx context.Context, path string, g goal.Goal) (engine.Activation, error) {
	ctx = context.WithoutCancel(ctx)
	f := &follower{agent: a, id: NewID(), offset: "0"}
	confirm := a.Options.ConfirmTimeout
	if a.Options.HoldFor > 0 {
		confirm += a.Options.HoldFor
	}
	if err := a.start(ctx, StartArgs(f.id, path, g, confirm, a.Options.OnFailure)); err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, a.Options.Timeout)
	defer cancel()
	rep, err := f.follow(wctx, false)
	if err != nil {
		return nil, f.release(ctx, err)
	}
	if rep.Status == statusAwaiting {
		return &activation{f: f, last: rep}, nil
	}
	res, err := f.outcome(rep)
	if err != nil {
		return nil, err
	}
	return &activation{f: f, last: rep, res: res}, nil
}

// activation is an activation that ran on the host.
type activation struct {
	f    *follower
	last Report
	res  engine.ActivationResult
}

// Confirm implements engine.Activation: it confirms the new system over a
// fresh connection and waits for the agent's final word. When nix-hive
// cannot reach the host, the host rolls itself back and a later reattach
// reads that.
func (p *activation) Confirm(ctx context.Context) (engine.ActivationResult, error) {
	if p.last.Status != statusAwaiting {
		return p.res, nil
	}
	o := p.f.agent.Options
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*o.ConfirmTimeout+2*time.Minute)
	defer cancel()
	rep, err := p.f.follow(ctx, true)
	if err != nil {
		return engine.ActivationResult{}, fmt.Errorf("confirm the new system: %w", err)
	}
	return p.f.outcome(rep)
}

// start launches the detached worker, waiting up to LockTimeout for
// another activation on the host (nix-hive's or any switch-to-configuration)
// to finish.
func (a *Agent) start(ctx context.Context, args []string) error {
	id := args[1]
	deadline := time.Now().Add(a.Options.LockTimeout)
	logged := false
	for {
		out, err := a.run(ctx, args...)
		if err == nil {
			if ParseLines(out).get("started") != id {
				return fmt.Errorf("start activation: the agent did not confirm the start: %q", strings.TrimSpace(string(out)))
			}
			return nil
		}
		var ce *process.CommandError
		if !errors.As(err, &ce) || ce.ExitCode != exitBusy {
			return a.notRoot(out, err, "start activation")
		}
		holder := describeHolder(ParseLines(out).get("busy"))
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %s; waited %s (--lock-timeout), nothing was changed — retry when it has finished", ErrBusy, holder, a.Options.LockTimeout)
		}
		if !logged {
			a.logf("waiting for the host: %s", holder)
			logged = true
		}
		if err := ctxtime.Sleep(ctx, a.Options.Poll); err != nil {
			return fmt.Errorf("wait for the host's lock: %w", err)
		}
	}
}

// describeHolder says who holds the host, from the agent's busy= value.
func describeHolder(holder string) string {
	if holder == "switch-to-configuration" {
		return "another switch-to-configuration (nixos-rebuild, system.autoUpgrade, ...) holds /run/nixos/switch-to-configuration.lock"
	}
	return fmt.Sprintf("another nix-hive activation is running on the host (activation %s)", holder)
}

func (a *Agent) logf(format string, args ...any) {
	fmt.Fprintf(a.Log, format+"\n", args...)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
