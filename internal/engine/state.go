package engine

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// State is where an instance is in the pipeline. The same state drives the
// terminal output, the --json report, the step summary and the GitHub
// deployment statuses.
type State string

// The states of an instance, in pipeline order; Failed, Skipped and
// RolledBack end a run early.
const (
	Planned    State = "planned"     // selected and evaluated, nothing done yet
	Building   State = "building"    // its system is being built
	Built      State = "built"       // its system's closure exists on the runner (the result of goal build)
	Storing    State = "storing"     // the closure is going to the instance's store
	Stored     State = "stored"      // the instance's store has the closure
	Copying    State = "copying"     // the closure is going to the instance
	Copied     State = "copied"      // the instance has the closure
	Pushed     State = "pushed"      // the result of goal push: the instance has the closure, nothing activated
	Activating State = "activating"  // switch-to-configuration is running
	Activated  State = "activated"   // the instance runs (or will boot) the new system
	Unchanged  State = "unchanged"   // the instance already ran the new system
	Failed     State = "failed"      // something went wrong; see the error
	Skipped    State = "skipped"     // not attempted (the run was cancelled)
	RolledBack State = "rolled-back" // activation failed and the previous generation was restored
)

// OK reports whether s is a successful outcome.
func (s State) OK() bool {
	switch s {
	case Failed, Skipped, RolledBack:
		return false
	}
	return true
}

// Event is one state change of one instance.
type Event struct {
	// Instance is the instance's name.
	Instance string
	// State is the state entered.
	State State
	// Detail says more, for a person (the store, the goal, ...).
	Detail string
	// Path is the store path of the instance's system, once it has been
	// evaluated (from Planned on).
	Path string
	// Err is set for Failed, RolledBack and Skipped.
	Err error
	// Time is when the state was entered.
	Time time.Time
	// Final is set on the instance's last event of the run; its State is
	// then the instance's result.
	Final bool
	// RebootRequired is set on an Activated event when the new system
	// takes full effect only after a reboot.
	RebootRequired bool
	// Warning is set on an Activated event that succeeded with a problem.
	Warning string
	// Wave names the rollout wave the instance runs in ("2/3 @eu"); ""
	// outside a rollout.
	Wave string
}

// String renders the event as one line of terminal output.
func (e Event) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", e.Instance, e.State)
	if e.Wave != "" && e.State == Planned {
		fmt.Fprintf(&b, " in wave %s", e.Wave)
	}
	if e.Detail != "" {
		fmt.Fprintf(&b, " (%s)", e.Detail)
	}
	if e.RebootRequired {
		b.WriteString(" [reboot required]")
	}
	if e.Warning != "" {
		fmt.Fprintf(&b, " warning: %s", e.Warning)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", firstLine(e.Err.Error()))
	}
	return b.String()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

// Observer receives every state change of every instance, in order per
// instance. It must be safe for concurrent use and must not block: the
// engine waits for it.
type Observer interface {
	Observe(ctx context.Context, e Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(ctx context.Context, e Event)

// Observe implements Observer.
func (f ObserverFunc) Observe(ctx context.Context, e Event) { f(ctx, e) }
