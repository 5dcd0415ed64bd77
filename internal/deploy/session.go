package deploy

import (
	"context"
	"fmt"
	"os"

	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/inventory"
	"github.com/nix-hive/nix-hive/internal/linewriter"
	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

// Session is a hive evaluated and narrowed to the selection, with the
// run's ssh config written and the host keys checked: what plan, status
// and rollback read and act on the hosts with. Close removes its working
// directory.
type Session struct {
	// Inventory is the selection.
	Inventory *inventory.Inventory
	// Runner runs nix and ssh (secrets and key variables removed).
	Runner process.Runner
	// SSH is the run's ssh config.
	SSH *sshconfig.Config
	// Stages are the real stages, or their dry-run decorator.
	Stages engine.Stages
	// Log is the request's log, shared by every instance's prefixed writer.
	Log *linewriter.Shared
	// Work is the private working directory.
	Work string
}

// Open does what Deploy does before it runs the engine, without a
// rollout: evaluate and select, fetch the flake, check the pins, let the
// plan checkers refuse the selection, write the ssh config, hide the
// variables keys are read from, check the host keys (when the goal needs
// hosts and it is no dry run) and assemble the stages.
func Open(ctx context.Context, req Request, checkers ...PlanChecker) (*Session, error) {
	work, err := os.MkdirTemp("", "nix-hive-")
	if err != nil {
		return nil, fmt.Errorf("make a working directory: %w", err)
	}
	s, err := open(ctx, req, work, checkers)
	if err != nil {
		os.RemoveAll(work)
		return nil, err
	}
	return s, nil
}

func open(ctx context.Context, req Request, work string, checkers []PlanChecker) (*Session, error) {
	exec := &process.Exec{Environ: req.Environ}
	inv, ssh, err := prepare(ctx, req, exec, work, checkers)
	if err != nil {
		return nil, err
	}
	runner := (&rollout{keyVars: keyVars(inv)}).withoutKeyVars(exec)
	if err := checkHostKeys(ctx, req, runner, ssh, inv); err != nil {
		return nil, err
	}
	log := linewriter.NewShared(orDiscard(req.Log))
	return &Session{
		Inventory: inv, Runner: runner, SSH: ssh, Log: log, Work: work,
		Stages: stages(req, runner, pushRunner(runner, inv), inv, ssh, work, log),
	}, nil
}

// Close removes the session's working directory.
func (s *Session) Close() { os.RemoveAll(s.Work) }

// Progress is the observer that prints one line per state change to the
// session's log.
func (s *Session) Progress() engine.Observer { return progress(s.Log) }

// Checkers are the observers that are also plan checkers.
func Checkers(observers []engine.Observer) []PlanChecker {
	var out []PlanChecker
	for _, o := range observers {
		if pc, ok := o.(PlanChecker); ok {
			out = append(out, pc)
		}
	}
	return out
}
