// Package deploy is nix-hive's one front door: a Request (the hive, the
// selection, the goal, keys and timeouts) goes in, and Deploy evaluates the
// hive, checks everything it can before any host is touched (the plan
// observers, the host keys), assembles the stages (or their dry-run
// decorator) and lets the engine run them. The command line and the GitHub
// Action are two adapters that each build a Request.
package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/nix-hive/nix-hive/internal/activation"
	"github.com/nix-hive/nix-hive/internal/discover"
	"github.com/nix-hive/nix-hive/internal/goal"
	"github.com/nix-hive/nix-hive/internal/inventory"
	"github.com/nix-hive/nix-hive/internal/selector"
)

// ErrUsage is wrapped by errors in what the user asked for: flags, action
// inputs, or names the plan cannot use.
var ErrUsage = errors.New("usage")

// The defaults of the command line's --confirm-timeout and --lock-timeout,
// which the action uses too.
const (
	DefaultConfirmTimeout = 30 * time.Second
	DefaultLockTimeout    = 60 * time.Second
)

// Request is one deployment, validated by the adapter that built it.
type Request struct {
	// Hive is the deployment directory or its hive.nix.
	Hive string
	// Selector chooses the instances; the zero Selector selects all.
	Selector selector.Selector
	// Goal is how far to go; default switch.
	Goal goal.Goal
	// Parallel is how many instances are copied and activated at once.
	Parallel int
	// DryRun prints the commands instead of running them.
	DryRun bool
	// SSHKey is the private key file ssh logs in with; empty for ssh's own.
	SSHKey string
	// KnownHosts is the known_hosts file host keys are checked against;
	// empty for ssh's own.
	KnownHosts string
	// AcceptNewHostKeys trusts unknown hosts on first use.
	AcceptNewHostKeys bool
	// HostKeyHint says how to make an unknown host known (a format with
	// one %s, the host's address); empty for the command line's advice.
	HostKeyHint string
	// SigningKey is a nix secret key file closures are signed with before
	// they are pushed to stores.
	SigningKey string
	// ConfirmTimeout is how long a host waits for nix-hive to reach it
	// again after switch or test before it rolls back; zero turns it off.
	ConfirmTimeout time.Duration
	// LockTimeout bounds the wait for another activation on a host (by
	// nix-hive, or any switch-to-configuration holding its lock).
	LockTimeout time.Duration
	// ActivationTimeout bounds the wait for switch-to-configuration to
	// finish on a host; zero means activation.DefaultTimeout.
	ActivationTimeout time.Duration
	// OnActivationFailure is what a failing switch-to-configuration leads
	// to; "" means roll back.
	OnActivationFailure activation.Policy
	// Environ is the environment of nix and ssh (secrets are removed by
	// the process runner).
	Environ []string
	// Log receives progress lines and command output, prefixed per
	// instance; nil discards them.
	Log io.Writer
	// Commands receives the commands a dry run prints; nil discards them.
	Commands io.Writer
	// Readers read the hive's discover sources; a nil reader is the real
	// one (see Readers). Each source is read once per run.
	Readers discover.Readers
	// Waves (selectors, in order) and Batch ("N" or "P%") replace hive.nix's
	// rollout.waves and rollout.batch when set; RollbackWave rolls back a
	// failed wave's activated instances (or hive.nix's rollout.rollbackWave).
	Waves        []string
	Batch        string
	RollbackWave bool
	// Reboot reboots each host after boot, or after a switch that needs a
	// reboot, and waits up to RebootTimeout (zero:
	// activation.DefaultRebootTimeout) for it to come back.
	Reboot        bool
	RebootTimeout time.Duration
}

// PlanChecker is an Observer that also sees the selected inventory once it
// is evaluated, before anything is built or any host is touched, and may
// refuse it: its error stops the run (the action checks its GitHub
// environment names there).
type PlanChecker interface {
	CheckPlan(ctx context.Context, inv *inventory.Inventory) error
}

// ParseParallel validates a parallelism setting: a whole number of at
// least 1.
func ParseParallel(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%q is not a whole number of at least 1", s)
	}
	return n, nil
}
