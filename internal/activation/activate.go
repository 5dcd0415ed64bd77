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

// Activate switches the host to path with goal and returns how it ended. It
// is not cut off when ctx is cancelled: an activation under way runs to
// its end, bounded by o.Timeout, because stopping half-way would leave the
// host between generations.
func (a *Agent) Activate(ctx context.Context, path string, goal Goal, o Options) (Result, error) {
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Minute
	}
	if o.Poll == 0 {
		o.Poll = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.Timeout)
	defer cancel()

	id := NewID()
	if err := a.start(ctx, id, path, goal, o); err != nil {
		return Result{}, err
	}
	return a.follow(ctx, id, o)
}

// DryRun runs (through a runner that only prints, for --dry-run) the
// command that would start the activation.
func (a *Agent) DryRun(ctx context.Context, path string, goal Goal, o Options) error {
	_, err := a.run(ctx, "start", "<id>", path, string(goal), strconv.Itoa(int(o.ConfirmTimeout.Seconds())))
	return err
}

// start launches the detached worker, waiting up to o.LockTimeout for
// another activation on the host to finish.
func (a *Agent) start(ctx context.Context, id, path string, goal Goal, o Options) error {
	confirm := strconv.Itoa(int(o.ConfirmTimeout.Seconds()))
	deadline := time.Now().Add(o.LockTimeout)
	for {
		out, err := a.run(ctx, "start", id, path, string(goal), confirm)
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
			return fmt.Errorf("%w (activation %s); waited %s — retry when it has finished", ErrBusy, holder, o.LockTimeout)
		}
		if err := ctxtime.Sleep(ctx, o.Poll); err != nil {
			return fmt.Errorf("wait for the host's lock: %w", err)
		}
	}
}

// follow reattaches until the activation ends, confirming it when the
// agent asks. Each call is a fresh ssh connection, so a session cut by the
// activation itself is survived; if the host stays unreachable, the agent
// rolls back on its own and a later reattach reads that.
func (a *Agent) follow(ctx context.Context, id string, o Options) (Result, error) {
	var lastErr error
	for {
		out, err := a.run(ctx, "wait", id, "30")
		if err != nil {
			lastErr = err
			a.logf("lost contact while activating (will reattach): %v", firstLine(err.Error()))
			if ctx.Err() != nil {
				return Result{}, fmt.Errorf("activation did not report back within %s: %w", o.Timeout, lastErr)
			}
			if err := ctxtime.Sleep(ctx, o.Poll); err != nil {
				return Result{}, fmt.Errorf("activation did not report back within %s: %w", o.Timeout, lastErr)
			}
			continue
		}
		lines := ParseLines(out)
		res := Result{Status: lines.get("status"), Reason: lines.get("reason"), Log: lines.all("log")}
		switch res.Status {
		case "running":
			continue
		case "awaiting-confirmation":
			if _, err := a.run(ctx, "confirm", id); err != nil {
				a.logf("could not confirm the new system over a fresh connection (the host will roll back): %v", firstLine(err.Error()))
			}
			continue
		case "activated":
			return res, nil
		case "rolled-back":
			return res, fmt.Errorf("%w: %s\n%s", ErrRolledBack, res.Reason, lastLog(res.Log))
		case "failed":
			return res, fmt.Errorf("activation failed: %s\n%s", res.Reason, lastLog(res.Log))
		default:
			return res, fmt.Errorf("activation %s: the agent reports %q", id, res.Status)
		}
	}
}

func (a *Agent) logf(format string, args ...any) {
	if a.Log != nil {
		a.Log(format, args...)
	}
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
