package record

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/activation"
	"github.com/nix-hive/nix-hive/internal/deploy"
	"github.com/nix-hive/nix-hive/internal/deployments"
)

const path = "/nix/store/0123456789abcdefghijklmnopqrstuv-nixos-system-web-1"

func ev(s deploy.State, detail string, err error) deploy.Event {
	return deploy.Event{Instance: "web-1", State: s, Detail: detail, Err: err}
}

// last marks e as the instance's last event, as the engine does.
func last(e deploy.Event) deploy.Event {
	e.Final = true
	return e
}

func TestTracker(t *testing.T) {
	buildErr := fmt.Errorf("build system web: %w", errors.New("nix-store --realise failed with exit code 1:\n    error: builder failed"))
	tests := []struct {
		name   string
		goal   deploy.Goal
		events []deploy.Event
		want   []string // "state: description", ! after the state for auto_inactive
	}{
		{"switch through a store", deploy.GoalSwitch, []deploy.Event{
			ev(deploy.Planned, "switch", nil), ev(deploy.Building, "web", nil), ev(deploy.Built, path, nil),
			ev(deploy.Pushing, "eu", nil), ev(deploy.Pushed, "eu", nil), ev(deploy.Copying, "from store eu", nil),
			ev(deploy.Copied, "", nil), ev(deploy.Activating, "switch", nil), ev(deploy.Activated, "switch", nil),
		}, []string{
			"queued: queued: switch", "in_progress: building system web", "in_progress: pushing to store eu",
			"in_progress: copying the system from store eu", "in_progress: activating: switch", "success!: running: " + path,
		}},
		{"unchanged", deploy.GoalSwitch, []deploy.Event{
			ev(deploy.Planned, "switch", nil), ev(deploy.Building, "web", nil), ev(deploy.Built, path, nil),
			ev(deploy.Unchanged, "already running "+path, nil),
		}, []string{"queued: queued: switch", "in_progress: building system web", "success!: unchanged, already running " + path}},
		{"boot", deploy.GoalBoot, []deploy.Event{
			ev(deploy.Planned, "boot", nil), ev(deploy.Built, path, nil), ev(deploy.Activating, "boot", nil), ev(deploy.Activated, "boot", nil),
		}, []string{"queued: queued: boot", "in_progress: activating: boot", "success!: boots next: " + path}},
		{"test", deploy.GoalTest, []deploy.Event{ev(deploy.Built, path, nil), ev(deploy.Activated, "test", nil)},
			[]string{"success!: testing (until reboot): " + path}},
		{"dry-activate does not retire the running deployment", deploy.GoalDryActivate,
			[]deploy.Event{ev(deploy.Built, path, nil), ev(deploy.Activated, "dry-activate", nil)},
			[]string{"success: dry-activate passed: " + path}},
		{"build ends at built", deploy.GoalBuild, []deploy.Event{
			ev(deploy.Planned, "build", nil), ev(deploy.Building, "web", nil), last(ev(deploy.Built, path, nil)),
		}, []string{"queued: queued: build", "in_progress: building system web", "success: built " + path}},
		{"push ends at the last pushed, after the copy", deploy.GoalPush, []deploy.Event{
			ev(deploy.Built, path, nil), ev(deploy.Pushing, "eu", nil), ev(deploy.Pushed, "eu", nil),
			ev(deploy.Copying, "from store eu", nil), last(ev(deploy.Pushed, "copied to web-1", nil)),
		}, []string{"in_progress: pushing to store eu", "in_progress: copying the system from store eu", "success: copied to the instance: " + path}},
		{"build failure is nix-hive's error", deploy.GoalSwitch, []deploy.Event{
			ev(deploy.Planned, "switch", nil), ev(deploy.Building, "web", nil), ev(deploy.Failed, "", buildErr),
		}, []string{"queued: queued: switch", "in_progress: building system web",
			"error: nix-hive failed to build the system: build system web: nix-store --realise failed with exit code 1"}},
		{"store push failure is nix-hive's error", deploy.GoalSwitch, []deploy.Event{
			ev(deploy.Built, path, nil), ev(deploy.Pushing, "eu", nil), ev(deploy.Failed, "", errors.New("push to store eu: refused")),
		}, []string{"in_progress: pushing to store eu", "error: nix-hive failed to push to the store: push to store eu: refused"}},
		{"unreachable host is a failure", deploy.GoalSwitch, []deploy.Event{
			ev(deploy.Built, path, nil), ev(deploy.Failed, "", errors.New("reach web-1: ssh failed")),
		}, []string{"failure: failed to reach the host: reach web-1: ssh failed"}},
		{"copy failure", deploy.GoalSwitch, []deploy.Event{
			ev(deploy.Copying, "from the runner", nil), ev(deploy.Failed, "", errors.New("copy: disk full")),
		}, []string{"in_progress: copying the system from the runner", "failure: failed to copy the system: copy: disk full"}},
		{"activation failure", deploy.GoalSwitch, []deploy.Event{
			ev(deploy.Activating, "switch", nil), ev(deploy.Failed, "", errors.New("activate switch on web-1: lost")),
		}, []string{"in_progress: activating: switch", "failure: failed to activate: activate switch on web-1: lost"}},
		{"rolled back", deploy.GoalSwitch, []deploy.Event{
			ev(deploy.Activating, "switch", nil), ev(deploy.RolledBack, "", fmt.Errorf("activate switch on web-1: %w", activation.ErrRolledBack)),
		}, []string{"in_progress: activating: switch", "failure: rolled back: activate switch on web-1: " + activation.ErrRolledBack.Error()}},
		{"cancelled", deploy.GoalSwitch, []deploy.Event{
			ev(deploy.Planned, "switch", nil), ev(deploy.Skipped, "", fmt.Errorf("not started: %w", context.Canceled)),
		}, []string{"queued: queued: switch", "error: cancelled: not started: context canceled"}},
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
	tr := tracker{goal: deploy.GoalSwitch}
	st, _, _ := tr.next(ev(deploy.Failed, "", errors.New(strings.Repeat("é", 500))))
	if n := len([]rune(st.Description)); n != deployments.MaxDescription || !strings.HasSuffix(st.Description, "…") {
		t.Errorf("description of %d characters: %q", n, st.Description)
	}
}
