package record

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/deployments"
	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/goal"
)

const path = "/nix/store/0123456789abcdefghijklmnopqrstuv-nixos-system-web-1"

func ev(s engine.State, detail string, err error) engine.Event {
	return engine.Event{Instance: "web-1", State: s, Detail: detail, Err: err}
}

// last marks e as the instance's last event, as the engine does.
func last(e engine.Event) engine.Event {
	e.Final = true
	return e
}

func TestTracker(t *testing.T) {
	buildErr := fmt.Errorf("build system web: %w", errors.New("nix-store --realise failed with exit code 1:\n    error: builder failed"))
	tests := []struct {
		name   string
		goal   goal.Goal
		events []engine.Event
		want   []string // "state: description", ! after the state for auto_inactive
	}{
		{"switch through a store", goal.Switch, []engine.Event{
			ev(engine.Planned, "switch", nil), ev(engine.Building, "web", nil), ev(engine.Built, path, nil),
			ev(engine.Storing, "eu", nil), ev(engine.Stored, "eu", nil), ev(engine.Copying, "from store eu", nil),
			ev(engine.Copied, "", nil), ev(engine.Activating, "switch", nil), ev(engine.Activated, "switch", nil),
		}, []string{
			"in_progress: building system web", "success!: running: " + path,
		}},
		{"unchanged", goal.Switch, []engine.Event{
			ev(engine.Planned, "switch", nil), ev(engine.Building, "web", nil), ev(engine.Built, path, nil),
			ev(engine.Unchanged, "already running "+path, nil),
		}, []string{"in_progress: building system web", "success!: unchanged, already running " + path}},
		{"boot", goal.Boot, []engine.Event{
			ev(engine.Planned, "boot", nil), ev(engine.Built, path, nil), ev(engine.Activating, "boot", nil), ev(engine.Activated, "boot", nil),
		}, []string{"in_progress: activating: boot", "success!: boots next: " + path}},
		{"test", goal.Test, []engine.Event{ev(engine.Built, path, nil), ev(engine.Activated, "test", nil)},
			[]string{"success!: testing (until reboot): " + path}},
		{"dry-activate does not retire the running deployment", goal.DryActivate,
			[]engine.Event{ev(engine.Built, path, nil), ev(engine.Activated, "dry-activate", nil)},
			[]string{"success: dry-activate passed: " + path}},
		{"build ends at built", goal.Build, []engine.Event{
			ev(engine.Planned, "build", nil), ev(engine.Building, "web", nil), last(ev(engine.Built, path, nil)),
		}, []string{"in_progress: building system web", "success: built " + path}},
		{"push ends at the last pushed, after the copy", goal.Push, []engine.Event{
			ev(engine.Built, path, nil), ev(engine.Storing, "eu", nil), ev(engine.Stored, "eu", nil),
			ev(engine.Copying, "from store eu", nil), last(ev(engine.Pushed, "copied to web-1", nil)),
		}, []string{"in_progress: pushing to store eu", "success: copied to the instance: " + path}},
		{"build failure is nix-hive's error", goal.Switch, []engine.Event{
			ev(engine.Planned, "switch", nil), ev(engine.Building, "web", nil), ev(engine.Failed, "", buildErr),
		}, []string{"in_progress: building system web",
			"error: nix-hive failed to build the system: build system web: nix-store --realise failed with exit code 1"}},
		{"store push failure is nix-hive's error", goal.Switch, []engine.Event{
			ev(engine.Built, path, nil), ev(engine.Storing, "eu", nil), ev(engine.Failed, "", errors.New("push to store eu: refused")),
		}, []string{"in_progress: pushing to store eu", "error: nix-hive failed to push to the store: push to store eu: refused"}},
		{"unreachable host is a failure", goal.Switch, []engine.Event{
			ev(engine.Built, path, nil), ev(engine.Failed, "", errors.New("reach web-1: ssh failed")),
		}, []string{"failure: failed to reach the host: reach web-1: ssh failed"}},
		{"unreachable when planning is a failure", goal.Switch, []engine.Event{
			ev(engine.Planned, "switch", nil), ev(engine.Failed, "", fmt.Errorf("reach web-1: %w", engine.ErrUnreachable)),
		}, []string{"failure: failed to reach the host: reach web-1: " + engine.ErrUnreachable.Error()}},
		{"copy failure", goal.Switch, []engine.Event{
			ev(engine.Copying, "from the runner", nil), ev(engine.Failed, "", errors.New("copy: disk full")),
		}, []string{"in_progress: copying the system from the runner", "failure: failed to copy the system: copy: disk full"}},
		{"activation failure", goal.Switch, []engine.Event{
			ev(engine.Activating, "switch", nil), ev(engine.Failed, "", errors.New("activate switch on web-1: lost")),
		}, []string{"in_progress: activating: switch", "failure: failed to activate: activate switch on web-1: lost"}},
		{"rolled back", goal.Switch, []engine.Event{
			ev(engine.Activating, "switch", nil), ev(engine.RolledBack, "", fmt.Errorf("activate switch on web-1: %w", engine.ErrRolledBack)),
		}, []string{"in_progress: activating: switch", "failure: rolled back: activate switch on web-1: " + engine.ErrRolledBack.Error()}},
		{"cancelled", goal.Switch, []engine.Event{
			ev(engine.Planned, "switch", nil), ev(engine.Skipped, "", fmt.Errorf("not started: %w", context.Canceled)),
		}, []string{"error: cancelled: not started: context canceled"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := tracker{goal: tt.goal}
			var got []string
			for i, e := range tt.events {
				st, ok, final := tr.next(e)
				if !ok {
					continue
				}
				if final != (i == len(tt.events)-1) {
					t.Errorf("event %s: final = %t", e.State, final)
				}
				if final != (st.State != deployments.StateQueued && st.State != deployments.StateInProgress) {
					t.Errorf("event %s: final %t for state %s", e.State, final, st.State)
				}
				if n := len([]rune(st.Description)); n > deployments.MaxDescription {
					t.Errorf("description of %d characters", n)
				}
				mark := ""
				if st.AutoInactive {
					mark = "!"
				}
				got = append(got, fmt.Sprintf("%s%s: %s", st.State, mark, st.Description))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("statuses\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestDescriptionsFitGitHub(t *testing.T) {
	tr := tracker{goal: goal.Switch}
	st, _, _ := tr.next(ev(engine.Failed, "", errors.New(strings.Repeat("é", 500))))
	if n := len([]rune(st.Description)); n != deployments.MaxDescription || !strings.HasSuffix(st.Description, "…") {
		t.Errorf("description of %d characters: %q", n, st.Description)
	}
}

// TestStatusesNameTheWave checks that every status of an instance in a
// rollout wave starts with the wave.
func TestStatusesNameTheWave(t *testing.T) {
	tr := tracker{goal: goal.Switch}
	var got []string
	for _, e := range []engine.Event{
		{State: engine.Building, Detail: "web", Wave: "2/3 @eu"},
		{State: engine.Skipped, Err: errors.New("not started: wave 1/3 @canary failed"), Final: true, Wave: "2/3 @eu"},
	} {
		if st, ok, _ := tr.next(e); ok {
			got = append(got, st.Description)
		}
	}
	want := []string{"wave 2/3 @eu: building system web", "wave 2/3 @eu: cancelled: not started: wave 1/3 @canary failed"}
	if !slices.Equal(got, want) {
		t.Errorf("descriptions %q, want %q", got, want)
	}
}
