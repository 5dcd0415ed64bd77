package activation

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/goal"
	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/process/processtest"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

func TestStartArgs(t *testing.T) {
	const path = "/nix/store/p"
	tests := []struct {
		goal   goal.Goal
		policy Policy
		want   string
	}{
		{goal.Switch, "", "start ID /nix/store/p switch yes running 30 rollback"},
		{goal.Boot, Keep, "start ID /nix/store/p boot yes boot 0 keep"},
		{goal.Test, Rollback, "start ID /nix/store/p test no running 30 rollback"},
		{goal.DryActivate, Rollback, "start ID /nix/store/p dry-activate no none 0 rollback"},
	}
	for _, tt := range tests {
		if got := strings.Join(StartArgs("ID", path, tt.goal, 30*time.Second, tt.policy), " "); got != tt.want {
			t.Errorf("%s, %q: %q, want %q", tt.goal, tt.policy, got, tt.want)
		}
	}
}

// agentOn returns an agent whose ssh runs are answered by f.
func agentOn(f *processtest.Fake) *Agent {
	h := &Hosts{Runner: f, SSH: &sshconfig.Config{Path: "/run/ssh_config"}, Options: Options{ConfirmTimeout: 30 * time.Second, Poll: time.Millisecond}}
	return h.Agent("web-1")
}

// agentCall matches ssh runs of the agent with the given first argument.
func agentCall(f *processtest.Fake, sub string, answer func(words []string) (string, error)) {
	f.Respond([]string{"ssh"}, func(c process.Command) (string, error) {
		words := strings.Fields(c.Args[len(c.Args)-1])
		for i, w := range words {
			if w == "nix-hive-agent" && i+1 < len(words) && strings.Trim(words[i+1], "'") == sub {
				return answer(words)
			}
		}
		return "", errors.New("unexpected agent call: " + c.Args[len(c.Args)-1])
	})
}

func TestActivateDecisions(t *testing.T) {
	tests := []struct {
		name     string
		waits    []string // the agent's answers to successive waits
		wantErr  error
		wantText string
		confirms bool
	}{
		{name: "activated after confirmation", waits: []string{"status=running", "status=awaiting-confirmation", "status=awaiting-confirmation", "status=activated"}, confirms: true},
		{name: "rolled back", waits: []string{"status=rolled-back\nreason=switch-to-configuration switch failed\nout=boom"}, wantErr: engine.ErrRolledBack, wantText: "boom"},
		{name: "reboot required", waits: []string{"status=running\nout=activating", "status=activated\nreboot=yes"}},
		{name: "busy after the start", waits: []string{"status=busy\nreason=another switch-to-configuration took the lock"}, wantErr: ErrBusy},
		{name: "failed", waits: []string{"status=failed\nreason=could not set the system profile"}, wantText: "activation failed: could not set the system profile"},
		{name: "unknown status", waits: []string{"status=missing"}, wantText: `the agent reports "missing"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &processtest.Fake{}
			var waits, confirms int
			f.Respond([]string{"ssh"}, func(c process.Command) (string, error) {
				remote := c.Args[len(c.Args)-1]
				switch {
				case strings.Contains(remote, "nix-hive-agent start "):
					return "started=" + strings.Trim(strings.Fields(remote)[len(strings.Fields(remote))-7], "'") + "\n", nil
				case strings.Contains(remote, "nix-hive-agent wait "):
					waits++
					return tt.waits[min(waits, len(tt.waits))-1] + "\n", nil
				case strings.Contains(remote, "nix-hive-agent confirm "):
					confirms++
					return "confirmed=x\n", nil
				}
				return "", errors.New("unexpected: " + remote)
			})
			a := agentOn(f)
			act, err := a.Activate(context.Background(), "/nix/store/p", goal.Switch)
			if err == nil {
				_, err = act.Confirm(context.Background())
			}
			switch {
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("error %v, want %v", err, tt.wantErr)
			case tt.wantText != "" && (err == nil || !strings.Contains(err.Error(), tt.wantText)):
				t.Errorf("error %v, want it to say %q", err, tt.wantText)
			case tt.wantText == "" && tt.wantErr == nil && err != nil:
				t.Errorf("error %v", err)
			}
			if (confirms > 0) != tt.confirms {
				t.Errorf("%d confirmations", confirms)
			}
		})
	}
}

func TestBusyHostWaitsForTheLock(t *testing.T) {
	f := &processtest.Fake{}
	busy := &process.CommandError{Args: []string{"ssh"}, ExitCode: exitBusy}
	f.Respond([]string{"ssh"}, func(c process.Command) (string, error) {
		return "busy=other\n", busy
	})
	a := agentOn(f)
	a.Options.LockTimeout = 20 * time.Millisecond
	_, err := a.Activate(context.Background(), "/nix/store/p", goal.Switch)
	if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "activation other") {
		t.Fatalf("error %v, want ErrBusy naming the holder", err)
	}
	if n := len(f.Calls()); n < 2 {
		t.Errorf("%d attempts, want it to retry while waiting for the lock", n)
	}
}

func TestStatus(t *testing.T) {
	f := processtest.New(t)
	agentCall(f, "status", func([]string) (string, error) {
		return "current=/nix/store/a\nprofile=/nix/store/b\nnoise\n", nil
	})
	st, err := agentOn(f).Status(context.Background())
	if err != nil || st != (engine.HostStatus{Current: "/nix/store/a", Profile: "/nix/store/b"}) {
		t.Errorf("status %+v, %v", st, err)
	}
}
