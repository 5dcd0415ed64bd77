package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/nix-hive/nix-hive/internal/goal"
	"github.com/nix-hive/nix-hive/internal/inventory"
)

// activateChecked activates path on the instance and, for the goals that
// change the running system, uploads its post-activation keys and runs its
// health checks before the confirmation: a failing check refuses the
// activation, which the host then undoes as the failure policy says. With
// Engine.Reboot, a boot, or a switch whose system needs a reboot, is
// followed by the reboot, the keys (a reboot empties /run) and the checks.
func (r *run) activateChecked(ctx context.Context, name string, host Host, path string) (ActivationResult, error) {
	a, err := host.Activate(ctx, path, r.goal)
	if err != nil {
		return ActivationResult{}, err
	}
	rebootNow := r.engine.Reboot && r.engine.Stages.Rebooter != nil &&
		(r.goal == goal.Boot || (r.goal == goal.Switch && pendingReboot(a)))
	checkedNow := r.goal.ChangesRunning() && !rebootNow
	if checkedNow {
		if err := r.afterActivation(ctx, name, inventory.PostActivation); err != nil {
			return ActivationResult{}, reject(ctx, a, err)
		}
	}
	res, err := a.Confirm(ctx)
	if err != nil {
		return ActivationResult{}, err
	}
	if res.Detail == "" {
		res.Detail = string(r.goal)
	}
	rebootNow = rebootNow || (r.engine.Reboot && r.engine.Stages.Rebooter != nil && res.RebootRequired && r.goal == goal.Switch)
	switch {
	case rebootNow:
		return r.reboot(ctx, name, path, res)
	case !checkedNow:
		if err := r.upload(ctx, name, inventory.PostActivation); err != nil {
			return ActivationResult{}, err
		}
	}
	return res, nil
}

// afterActivation uploads the instance's keys of an upload time, then runs
// its health checks.
func (r *run) afterActivation(ctx context.Context, name, when string) error {
	if err := r.upload(ctx, name, when); err != nil {
		return err
	}
	if c := r.engine.Stages.Checker; c != nil {
		if err := c.Check(ctx, name); err != nil {
			return fmt.Errorf("%w: %w", ErrUnhealthy, err)
		}
	}
	return nil
}

// ErrUnhealthy is wrapped by the error of an instance whose health checks
// failed.
var ErrUnhealthy = errors.New("health check failed")

// upload uploads the instance's keys of an upload time ("" for all), for
// the goals after which the host runs or boots the new system.
func (r *run) upload(ctx context.Context, name, when string) error {
	if r.engine.Stages.Keys == nil || !r.goal.Replaces() {
		return nil
	}
	return r.engine.Stages.Keys.Upload(ctx, name, when)
}

// reboot reboots the instance, checks that it runs path afterwards, uploads
// all its keys again and runs its health checks. A failure after the
// reboot leaves the new system in place (the boot entry is already the new
// one), so the instance is failed, not rolled back.
func (r *run) reboot(ctx context.Context, name, path string, res ActivationResult) (ActivationResult, error) {
	r.emit(ctx, Event{Instance: name, State: Activating, Detail: "rebooting"})
	running, err := r.engine.Stages.Rebooter.Reboot(ctx, name)
	if err != nil {
		return ActivationResult{}, fmt.Errorf("reboot: %w", err)
	}
	if running != path {
		return ActivationResult{}, fmt.Errorf("reboot: the host came back running %s, not the new system %s", running, path)
	}
	if err := r.afterActivation(ctx, name, ""); err != nil {
		return ActivationResult{}, fmt.Errorf("after the reboot into %s: %w", path, err)
	}
	res.RebootRequired = false
	res.Detail = "rebooted into " + path
	return res, nil
}

// reject refuses an activation whose checks failed, when it can be
// refused; the error says why and what the host did.
func reject(ctx context.Context, a Activation, cause error) error {
	if rj, ok := a.(Rejecter); ok {
		return rj.Reject(ctx, cause)
	}
	return cause
}

func pendingReboot(a Activation) bool {
	p, ok := a.(RebootPending)
	return ok && p.RebootRequired()
}
