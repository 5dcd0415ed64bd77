package record

import (
	"errors"
	"strings"

	"github.com/nix-hive/nix-hive/internal/deployments"
	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/goal"
)

// tracker follows one instance's events and says which deployment status
// each calls for. At most two statuses per deployment, so that with its
// creation it costs at most three writes:
//
//   - planned: none (the deployment is created then)
//   - the first of building, pushing, copying, activating: in_progress,
//     naming the phase; the later phases only go to the log
//   - activated, unchanged, and built or pushed when that is the goal:
//     success (auto_inactive only for goals after which the host runs the
//     new system)
//   - failed on the host (reaching it, copying, activating) or rolled back:
//     failure, naming the phase
//   - failed while nix-hive built or pushed the system, or skipped because
//     the run was cancelled: error
type tracker struct {
	goal    goal.Goal
	last    engine.State
	path    string
	started bool // in_progress was asked for
}

// next returns the status e calls for (ok false for none) and whether it is
// the instance's final one.
func (t *tracker) next(e engine.Event) (st deployments.Status, ok, final bool) {
	st, ok, final = t.state(e)
	if ok && e.Wave != "" {
		st.Description = deployments.Clip("wave "+e.Wave+": "+st.Description, deployments.MaxDescription)
	}
	return st, ok, final
}

// state returns the status e calls for, as next does, without the wave.
func (t *tracker) state(e engine.Event) (st deployments.Status, ok, final bool) {
	prev := t.last
	t.last = e.State
	switch e.State {
	case engine.Building:
		return t.progress("building system " + e.Detail)
	case engine.Built:
		t.path = e.Detail
		if e.Final { // the build goal ends here
			return t.success(t.goal.Success(t.path)), true, true
		}
	case engine.Storing:
		return t.progress("pushing to store " + e.Detail)
	case engine.Pushed: // the push goal ends with the copy to the instance
		return t.success(t.goal.Success(t.path)), true, true
	case engine.Copying:
		return t.progress("copying the system " + e.Detail)
	case engine.Activating:
		return t.progress("activating: " + e.Detail)
	case engine.Activated:
		return t.success(t.goal.Success(t.path)), true, true
	case engine.Unchanged:
		return t.success("unchanged, " + e.Detail), true, true
	case engine.RolledBack:
		return status(deployments.StateFailure, "rolled back: "+errText(e)), true, true
	case engine.Skipped:
		return status(deployments.StateError, "cancelled: "+errText(e)), true, true
	case engine.Failed:
		if errors.Is(e.Err, engine.ErrUnreachable) {
			return status(deployments.StateFailure, "failed to reach the host: "+errText(e)), true, true
		}
		switch prev {
		case engine.Planned, engine.Building, engine.Storing:
			return status(deployments.StateError, "nix-hive failed "+phase(prev)+": "+errText(e)), true, true
		}
		return status(deployments.StateFailure, "failed "+phase(prev)+": "+errText(e)), true, true
	}
	return deployments.Status{}, false, false
}

// progress is the one in_progress status, at the first phase.
func (t *tracker) progress(desc string) (deployments.Status, bool, bool) {
	if t.started {
		return deployments.Status{}, false, false
	}
	t.started = true
	return status(deployments.StateInProgress, desc), true, false
}

// success is a final success. auto_inactive retires the environment's
// earlier deployments, right when the host now runs (or boots) the new
// system, wrong for goals that leave it running the old one.
func (t *tracker) success(desc string) deployments.Status {
	st := status(deployments.StateSuccess, desc)
	st.AutoInactive = t.goal.Replaces()
	return st
}

// phase names where an instance was when it failed.
func phase(last engine.State) string {
	switch last {
	case engine.Planned, engine.Building:
		return "to build the system"
	case engine.Storing:
		return "to push to the store"
	case engine.Built, engine.Stored:
		return "to reach the host"
	case engine.Copying:
		return "to copy the system"
	case engine.Copied, engine.Activating:
		return "to activate"
	}
	return "after " + string(last)
}

func errText(e engine.Event) string {
	if e.Err == nil {
		return string(e.State)
	}
	msg, _, _ := strings.Cut(e.Err.Error(), "\n")
	return strings.TrimSuffix(msg, ":")
}

func status(state deployments.State, desc string) deployments.Status {
	return deployments.Status{State: state, Description: deployments.Clip(desc, deployments.MaxDescription)}
}
