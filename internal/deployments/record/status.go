package record

import (
	"strings"

	"github.com/nix-hive/nix-hive/internal/deploy"
	"github.com/nix-hive/nix-hive/internal/deployments"
)

// tracker follows one instance's events and says which deployment status
// each calls for. The mapping:
//
//   - planned: queued
//   - building, pushing, copying, activating: in_progress, naming the phase
//   - activated, unchanged, and built or pushed when that is the goal:
//     success (auto_inactive only for goals after which the host runs the
//     new system)
//   - failed on the host (reaching it, copying, activating) or rolled back:
//     failure
//   - failed while nix-hive built or pushed the system, or skipped because
//     the run was cancelled: error
type tracker struct {
	goal deploy.Goal
	last deploy.State
	path string
}

// next returns the status e calls for (ok false for none) and whether it is
// the instance's final one.
func (t *tracker) next(e deploy.Event) (st deployments.Status, ok, final bool) {
	prev := t.last
	t.last = e.State
	switch e.State {
	case deploy.Planned:
		return status(deployments.StateQueued, "queued: "+string(t.goal)), true, false
	case deploy.Building:
		return status(deployments.StateInProgress, "building system "+e.Detail), true, false
	case deploy.Built:
		t.path = e.Detail
		if e.Final { // the build goal ends here
			return t.success("built " + t.path), true, true
		}
	case deploy.Pushing:
		return status(deployments.StateInProgress, "pushing to store "+e.Detail), true, false
	case deploy.Pushed:
		if e.Final { // the push goal ends with the copy to the instance
			return t.success("copied to the instance: " + t.path), true, true
		}
	case deploy.Copying:
		return status(deployments.StateInProgress, "copying the system "+e.Detail), true, false
	case deploy.Activating:
		return status(deployments.StateInProgress, "activating: "+e.Detail), true, false
	case deploy.Activated:
		return t.success(activated(t.goal, t.path)), true, true
	case deploy.Unchanged:
		return t.success("unchanged, " + e.Detail), true, true
	case deploy.RolledBack:
		return status(deployments.StateFailure, "rolled back: "+errText(e)), true, true
	case deploy.Skipped:
		return status(deployments.StateError, "cancelled: "+errText(e)), true, true
	case deploy.Failed:
		switch prev {
		case deploy.Planned, deploy.Building, deploy.Pushing:
			return status(deployments.StateError, "nix-hive failed "+phase(prev)+": "+errText(e)), true, true
		}
		return status(deployments.StateFailure, "failed "+phase(prev)+": "+errText(e)), true, true
	}
	return deployments.Status{}, false, false
}

// success is a final success. auto_inactive retires the environment's
// earlier deployments, right when the host now runs (or boots) the new
// system, wrong for goals that leave it running the old one.
func (t *tracker) success(desc string) deployments.Status {
	st := status(deployments.StateSuccess, desc)
	st.AutoInactive = Replaces(t.goal)
	return st
}

// Replaces reports whether a successful deployment with goal takes the
// place of the host's previous one: switch, boot and test do; build, push
// and dry-activate leave the host as it was.
func Replaces(goal deploy.Goal) bool {
	return goal == deploy.GoalSwitch || goal == deploy.GoalBoot || goal == deploy.GoalTest
}

func activated(goal deploy.Goal, path string) string {
	switch goal {
	case deploy.GoalBoot:
		return "boots next: " + path
	case deploy.GoalTest:
		return "testing (until reboot): " + path
	case deploy.GoalDryActivate:
		return "dry-activate passed: " + path
	}
	return "running: " + path
}

// phase names where an instance was when it failed.
func phase(last deploy.State) string {
	switch last {
	case deploy.Planned, deploy.Building:
		return "to build the system"
	case deploy.Pushing:
		return "to push to the store"
	case deploy.Built, deploy.Pushed:
		return "to reach the host"
	case deploy.Copying:
		return "to copy the system"
	case deploy.Copied, deploy.Activating:
		return "to activate"
	}
	return "after " + string(last)
}

func errText(e deploy.Event) string {
	if e.Err == nil {
		return string(e.State)
	}
	msg, _, _ := strings.Cut(e.Err.Error(), "\n")
	return strings.TrimSuffix(msg, ":")
}

func status(state deployments.State, desc string) deployments.Status {
	return deployments.Status{State: state, Description: deployments.Clip(desc, deployments.MaxDescription)}
}
