package activation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nix-hive/nix-hive/internal/ctxtime"
	"github.com/nix-hive/nix-hive/internal/engine"
)

// DefaultRebootTimeout bounds the wait for a rebooted host to come back.
const DefaultRebootTimeout = 5 * time.Minute

// ErrNotBack is wrapped by the error of a reboot after which the host did
// not come back, with a new boot id, within Options.RebootTimeout.
var ErrNotBack = errors.New("the host did not come back from the reboot")

var (
	_ engine.Rejecter      = (*activation)(nil)
	_ engine.RebootPending = (*activation)(nil)
	_ engine.Rebooter      = (*Hosts)(nil)
)

// RebootRequired implements engine.RebootPending: the agent said so
// before the confirmation.
func (p *activation) RebootRequired() bool { return p.last.Reboot || p.res.RebootRequired }

// Reject implements engine.Rejecter: it tells the agent that the
// activation awaiting confirmation is refused, waits until the host has
// undone it (or kept it, under --on-activation-failure keep) and returns
// cause joined with what the host did. An activation that awaits nothing
// (confirmation off) cannot be undone this way: it is failed with cause.
func (p *activation) Reject(ctx context.Context, cause error) error {
	if p.last.Status != statusAwaiting {
		return fmt.Errorf("%w; the new system stays (nothing awaited a confirmation)", cause)
	}
	f := p.f
	o := f.agent.Options
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*o.ConfirmTimeout+2*time.Minute)
	defer cancel()
	if _, err := f.agent.run(ctx, "reject", f.id); err != nil {
		return fmt.Errorf("%w; could not tell the host (%v): it rolls back when its confirmation window ends", cause, firstLine(err.Error()))
	}
	for {
		rep, err := f.follow(ctx, false)
		if err != nil {
			return fmt.Errorf("%w; then lost the host: %w", cause, err)
		}
		if rep.Status != statusAwaiting {
			_, err := f.outcome(rep)
			return fmt.Errorf("%w\n%w", cause, err)
		}
		if err := ctxtime.Sleep(ctx, 200*time.Millisecond); err != nil {
			return fmt.Errorf("%w; then: %w", cause, err)
		}
	}
}

// Reboot implements engine.Rebooter.
func (h *Hosts) Reboot(ctx context.Context, instance string) (string, error) {
	return h.Agent(instance).Reboot(ctx)
}

// Reboot reboots the host and waits, up to Options.RebootTimeout, until it
// answers again with a new boot id; it returns the system the host runs
// then.
func (a *Agent) Reboot(ctx context.Context) (string, error) {
	out, err := a.run(ctx, "status")
	if err != nil {
		return "", a.notRoot(out, err, "read the boot id")
	}
	before := ParseLines(out).get("boot")
	if before == "" {
		return "", errors.New("the host reports no boot id (/proc/sys/kernel/random/boot_id), so its reboot cannot be followed")
	}
	if _, err := a.run(ctx, "reboot"); err != nil {
		return "", fmt.Errorf("ask the host to reboot: %w", err)
	}
	timeout := a.Options.RebootTimeout
	if timeout <= 0 {
		timeout = DefaultRebootTimeout
	}
	a.logf("rebooting (boot id %s); waiting up to %s for it to come back", before, timeout)
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		if err := ctxtime.Sleep(wctx, a.Options.Poll); err != nil {
			break
		}
		out, err := a.run(wctx, "status")
		if err != nil {
			continue // still down
		}
		kv := ParseLines(out)
		if boot := kv.get("boot"); boot != "" && boot != before {
			a.logf("back with boot id %s, running %s", boot, kv.get("current"))
			return kv.get("current"), nil
		}
	}
	if ctx.Err() != nil {
		return "", fmt.Errorf("wait for the reboot: %w", context.Cause(ctx))
	}
	return "", fmt.Errorf("%w with a new boot id within %s (--reboot-timeout); check its console", ErrNotBack, timeout)
}
