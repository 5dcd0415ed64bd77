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

// NewID returns a fresh activation id.
func NewID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// StartArgs are the agent's arguments that start activating path with the
// goal: every decision the goal implies is made here and passed as a flag.
func StartArgs(id, path string, g goal.Goal, confirm time.Duration) []string {
	profile := "no"
	if g.SetsProfile() {
		profile = "yes"
	}
	if !g.NeedsConfirmation() {
		confirm = 0
	}
	return []string{"start", id, path, string(g), profile, string(g.Rollback()), strconv.Itoa(int(confirm.Seconds()))}
}

// Activate implements engine.Host: it starts the activation in the
// agent's detached worker and follows it until it awaits confirmation or
// ends. It is not cut off when ctx is cancelled: an activation under way
// runs to its end, bounded by Options.Timeout, because stopping half-way
// would leave the host between generations.
func (a *Agent) Activate(ctx context.Context, path string, g goal.Goal) (engine.Activation, error) {
	deadline := time.Now().Add(a.Options.Timeout)
	ctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	defer cancel()
	id := NewID()
	if err := a.start(ctx, StartArgs(id, path, g, a.Options.ConfirmTimeout)); err != nil {
		return nil, err
	}
	status, err := a.follow(ctx, id, false)
	if err != nil {
		return nil, err
	}
	return &activation{agent: a, id: id, deadline: deadline, awaiting: status == "awaiting-confirmation"}, nil
}

// activation is an activation that ran on the host.
type activation struct {
	agent    *Agent
	id       string
	deadline time.Time
	awaiting bool
}

// Confirm implements engine.Activation: it confirms the new system over a
// fresh connection and waits for the agent's final word. When nix-hive
// cannot reach the host, the host rolls itself back and a later reattach
// reads that.
func (p *activation) Confirm(ctx context.Context) error {
	if !p.awaiting {
		return nil
	}
	ctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), p.deadline)
	defer cancel()
	_, err := p.agent.follow(ctx, p.id, true)
	return err
}

// start launches the detached worker, waiting up to LockTimeout for
// another activation on the host to finish.
func (a *Agent) start(ctx context.Context, args []string) error {
	id := args[1]
	deadline := time.Now().Add(a.Options.LockTimeout)
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
			return fmt.Errorf("start activation: %w", err)
		}
		if time.Now().After(deadline) {
			holder := ParseLines(out).get("busy")
			return fmt.Errorf("%w (activation %s); waited %s — retry when it has finished", ErrBusy, holder, a.Options.LockTimeout)
		}
		if err := ctxtime.Sleep(ctx, a.Options.Poll); err != nil {
			return fmt.Errorf("wait for the host's lock: %w", err)
		}
	}
}

// follow reattaches until the activation ends — or, unless confirm is set,
// until it awaits confirmation — and returns the status it stopped at.
// Each call is a fresh ssh connection, so a session cut by the activation
// itself is survived.
func (a *Agent) follow(ctx context.Context, id string, confirm bool) (string, error) {
	var lastErr error
	for {
		out, err := a.run(ctx, "wait", id, "30")
		if err != nil {
			lastErr = err
			a.logf("lost contact while activating (will reattach): %v", firstLine(err.Error()))
			if ctx.Err() != nil || ctxtime.Sleep(ctx, a.Options.Poll) != nil {
				return "", fmt.Errorf("activation did not report back within %s: %w", a.Options.Timeout, lastErr)
			}
			continue
		}
		lines := ParseLines(out)
		res := Result{Status: lines.get("status"), Reason: lines.get("reason"), Log: lines.all("log")}
		switch res.Status {
		case "running":
			continue
		case "awaiting-confirmation":
			if !confirm {
				return res.Status, nil
			}
			if _, err := a.run(ctx, "confirm", id); err != nil {
				a.logf("could not confirm the new system over a fresh connection (the host will roll back): %v", firstLine(err.Error()))
			}
			continue
		}
		return res.Status, outcome(id, res)
	}
}

// outcome turns the agent's final status into the activation's error.
func outcome(id string, res Result) error {
	switch res.Status {
	case "activated":
		return nil
	case "rolled-back":
		return fmt.Errorf("%w: %s\n%s", engine.ErrRolledBack, res.Reason, lastLog(res.Log))
	case "failed":
		return fmt.Errorf("activation failed: %s\n%s", res.Reason, lastLog(res.Log))
	}
	return fmt.Errorf("activation %s: the agent reports %q", id, res.Status)
}

func (a *Agent) logf(format string, args ...any) {
	fmt.Fprintf(a.Log, format+"\n", args...)
}

func lastLog(lines []string) string {
	if len(lines) == 0 {
		return "no log"
	}
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, "\n")
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
