package activation

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nix-hive/nix-hive/internal/ctxtime"
	"github.com/nix-hive/nix-hive/internal/engine"
)

// rollbackMarker starts the agent's log line that separates the
// activation's own output from the rollback's.
const rollbackMarker = "nix-hive: rolling back: "

// Report is one answer of the agent's `wait`.
type Report struct {
	// Status is the agent's status: running, awaiting-confirmation,
	// activated, rolled-back, failed or busy.
	Status string
	// Reason says why the activation ended as it did.
	Reason string
	// Warning is set when a failed switch was kept by policy.
	Warning string
	// Reboot is set when the new system needs a reboot.
	Reboot bool
	// Output holds the activation's log lines since the offset asked for.
	Output []string
	// Offset is where the next wait continues the log.
	Offset string
}

// ParseReport parses the agent's `wait` output.
func ParseReport(out []byte) Report {
	l := ParseLines(out)
	return Report{Status: l.get("status"), Reason: l.get("reason"), Warning: l.get("warning"),
		Reboot: l.get("reboot") == "yes", Output: l.all("out"), Offset: l.get("offset")}
}

// follower follows one activation on the host across connections.
type follower struct {
	agent  *Agent
	id     string
	offset string   // how much of the activation's log has been read
	output []string // the activation's log lines read so far
}

// follow reattaches until the activation ends — or, unless confirm is set,
// until it awaits confirmation — and returns the agent's last report. Each
// call is a fresh ssh connection, so a session cut by the activation
// itself is survived. It fails only when ctx ends first.
func (f *follower) follow(ctx context.Context, confirm bool) (Report, error) {
	a := f.agent
	for {
		out, err := a.run(ctx, "wait", f.id, "30", f.offset)
		if err != nil {
			if ctx.Err() != nil {
				return Report{}, fmt.Errorf("%w: %w", context.Cause(ctx), err)
			}
			a.logf("lost contact while activating (will reattach): %v", firstLine(err.Error()))
			if err := ctxtime.Sleep(ctx, a.Options.Poll); err != nil {
				return Report{}, err
			}
			continue
		}
		rep := ParseReport(out)
		f.take(rep)
		switch rep.Status {
		case statusRunning:
			continue
		case statusAwaiting:
			if !confirm {
				return rep, nil
			}
			if _, err := a.run(ctx, "confirm", f.id); err != nil {
				a.logf("could not confirm the new system over a fresh connection (the host will roll back): %v", firstLine(err.Error()))
			}
			continue
		}
		return rep, nil
	}
}

// take streams a report's output lines to the instance's log and keeps
// them for the error of a failed activation.
func (f *follower) take(rep Report) {
	for _, line := range rep.Output {
		fmt.Fprintln(f.agent.Log, line)
	}
	f.output = append(f.output, rep.Output...)
	if rep.Offset != "" {
		f.offset = rep.Offset
	}
}

// release tells the host that nix-hive stopped waiting (after
// Options.Timeout, or when it lost the host for good), so that it keeps
// what the activation does instead of waiting for a confirmation, and
// returns the activation's error.
func (f *follower) release(ctx context.Context, cause error) error {
	a := f.agent
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	msg := fmt.Sprintf("switch-to-configuration did not finish within %s (--activation-timeout): nix-hive stopped waiting", a.Options.Timeout)
	if _, err := a.run(ctx, "release", f.id); err != nil {
		return fmt.Errorf("%s (%v), and could not tell the host (%v): it rolls back unless nix-hive confirms", msg, firstLine(cause.Error()), firstLine(err.Error()))
	}
	return fmt.Errorf("%s; the host keeps the new system if the activation succeeds (its log: /run/nix-hive/%s/log)", msg, f.id)
}

// outcome turns the agent's final report into the activation's result or
// error. A failure's error is the reason, the activation's own output,
// then the rollback's.
func (f *follower) outcome(rep Report) (engine.ActivationResult, error) {
	switch rep.Status {
	case statusActivated:
		return engine.ActivationResult{RebootRequired: rep.Reboot, Warning: rep.Warning}, nil
	case statusRolled:
		return engine.ActivationResult{}, fmt.Errorf("%w: %s%s", engine.ErrRolledBack, rep.Reason, f.failureOutput())
	case statusFailed:
		return engine.ActivationResult{}, fmt.Errorf("activation failed: %s%s", rep.Reason, f.failureOutput())
	case statusBusy:
		return engine.ActivationResult{}, fmt.Errorf("%w: %s; nothing was changed", ErrBusy, rep.Reason)
	}
	return engine.ActivationResult{}, fmt.Errorf("activation %s: the agent reports %q", f.id, rep.Status)
}

// failureOutput is the activation's output, then the rollback's, each
// cut to its last lines, to follow a failure's reason.
func (f *follower) failureOutput() string {
	own, rollback := SplitOutput(f.output)
	var b strings.Builder
	if len(own) > 0 {
		b.WriteString("\nactivation output:\n  " + strings.Join(lastLines(own, 15), "\n  "))
	}
	if len(rollback) > 0 {
		b.WriteString("\nrollback output:\n  " + strings.Join(lastLines(rollback, 10), "\n  "))
	}
	return b.String()
}

// SplitOutput splits an activation's log lines into the activation's own
// and the rollback's, which start at the agent's "rolling back" line.
func SplitOutput(lines []string) (own, rollback []string) {
	for i, line := range lines {
		if strings.HasPrefix(line, rollbackMarker) {
			return lines[:i], lines[i:]
		}
	}
	return lines, nil
}

func lastLines(lines []string, n int) []string {
	if len(lines) > n {
		return lines[len(lines)-n:]
	}
	return lines
}
