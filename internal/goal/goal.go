// Package goal holds every rule that depends on how far a deployment goes:
// whether it needs the hosts, copies closures to them, activates, sets the
// system profile, needs a confirmation, replaces the host's previous
// deployment in GitHub, and what "unchanged" means. Everything else asks
// the Goal instead of comparing goal names.
package goal

import (
	"fmt"
	"strings"
)

// Goal is what a deployment goes as far as.
type Goal string

// The goals: build and push stop before the instances are activated; the
// rest are switch-to-configuration's actions, with nixos-rebuild's meanings.
const (
	Build       Goal = "build"        // build each system on the runner
	Push        Goal = "push"         // also copy it to the stores and instances
	Switch      Goal = "switch"       // set the profile, activate now and at boot
	Boot        Goal = "boot"         // set the profile, activate at the next boot
	Test        Goal = "test"         // activate now, leave the profile
	DryActivate Goal = "dry-activate" // show what activation would change
)

// All lists every goal, in pipeline order.
func All() []Goal { return []Goal{Build, Push, Switch, Boot, Test, DryActivate} }

// Parse validates a goal name.
func Parse(s string) (Goal, error) {
	for _, g := range All() {
		if string(g) == s {
			return g, nil
		}
	}
	names := make([]string, len(All()))
	for i, g := range All() {
		names[i] = string(g)
	}
	return "", fmt.Errorf("unknown goal %q; use one of %s", s, strings.Join(names, ", "))
}

// NeedsHosts reports whether the goal connects to instances or stores
// (all but build).
func (g Goal) NeedsHosts() bool { return g != Build }

// Activates reports whether the goal runs switch-to-configuration.
func (g Goal) Activates() bool { return g != Build && g != Push }

// SetsProfile reports whether the goal points the system profile at the
// new system (and so the boot loader's default entry).
func (g Goal) SetsProfile() bool { return g == Switch || g == Boot }

// ChangesRunning reports whether the goal changes the running system.
func (g Goal) ChangesRunning() bool { return g == Switch || g == Test }

// NeedsConfirmation reports whether the new system must be confirmed over
// a fresh connection, or else rolled back: the goals that change the
// running system, which could cut the host off.
func (g Goal) NeedsConfirmation() bool { return g.ChangesRunning() }

// Replaces reports whether a success takes the place of the host's
// previous deployment (GitHub's auto_inactive): switch, boot and test do;
// build, push and dry-activate leave the host as it was.
func (g Goal) Replaces() bool { return g == Switch || g == Boot || g == Test }

// Unchanged reports whether activating path would change nothing on a host
// whose running system is current and whose profile is profile. Only the
// goals that change the running system or the profile can be unchanged.
func (g Goal) Unchanged(current, profile, path string) bool {
	switch {
	case path == "":
		return false
	case g == Switch:
		return current == path && profile == path
	case g == Boot:
		return profile == path
	case g == Test:
		return current == path
	}
	return false
}

// Rollback is what undoing a failed activation of the goal means.
type Rollback string

// The rollbacks the activation agent knows.
const (
	// RollbackNone: nothing changed (dry-activate).
	RollbackNone Rollback = "none"
	// RollbackRunning: activate the previous running system again with the
	// same action (switch, test).
	RollbackRunning Rollback = "running"
	// RollbackBoot: make the previous profile the boot default again (boot).
	RollbackBoot Rollback = "boot"
)

// Rollback returns how the agent undoes the goal's activation.
func (g Goal) Rollback() Rollback {
	switch {
	case g.ChangesRunning():
		return RollbackRunning
	case g == Boot:
		return RollbackBoot
	}
	return RollbackNone
}

// Success describes, for a person, what a successful instance now has.
func (g Goal) Success(path string) string {
	switch g {
	case Build:
		return "built " + path
	case Push:
		return "copied to the instance: " + path
	case Boot:
		return "boots next: " + path
	case Test:
		return "testing (until reboot): " + path
	case DryActivate:
		return "dry-activate passed: " + path
	}
	return "running: " + path
}
