package deploy

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/hostkeys"
	"github.com/nix-hive/nix-hive/internal/inventory"
	"github.com/nix-hive/nix-hive/internal/linewriter"
	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

// Session is a hive evaluated and narrowed to the selection, with the
// run's ssh config written and the host keys checked: what Deploy runs the
// engine on, and what plan, status and rollback read the hosts with.
// Close removes its working directory.
type Session struct {
	// Inventory is the selection.
	Inventory *inventory.Inventory
	// Runner runs nix and ssh (secrets removed).
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

// Open does everything Deploy does before it runs the engine: evaluate
// and select, check the pins, let the plan checkers refuse the
// selection, write the ssh config, check the host keys (when the goal
// needs hosts and it is no dry run) and assemble the stages.
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
	runner := &process.Exec{Environ: req.Environ}
	inv, err := Load(ctx, runner, work, req.Hive, req.Selector, req.Readers)
	if err != nil {
		return nil, err
	}
	WriteWarnings(orDiscard(req.Log), inv)
	if err := inventory.Unpinned(inv, nixPath(req.Environ)); err != nil {
		return nil, fmt.Errorf("no host was touched: %w", err)
	}
	for _, pc := range checkers {
		if err := pc.CheckPlan(ctx, inv); err != nil {
			return nil, err
		}
	}
	ssh, err := sshconfig.Write(work, inv.SSHConfig, sshconfig.Options{
		IdentityFile: absPath(req.SSHKey), KnownHosts: absPath(req.KnownHosts), AcceptNewHostKeys: req.AcceptNewHostKeys,
	})
	if err != nil {
		return nil, err
	}
	if req.Goal.NeedsHosts() && !req.DryRun {
		checker := &hostkeys.Checker{Runner: runner, SSH: ssh, Hint: req.HostKeyHint}
		if err := checker.Check(ctx, Targets(inv)); err != nil {
			return nil, fmt.Errorf("no host was touched: %w", err)
		}
	}
	log := linewriter.NewShared(orDiscard(req.Log))
	return &Session{
		Inventory: inv, Runner: runner, SSH: ssh, Log: log, Work: work,
		Stages: stages(req, runner, pushRunner(runner, inv), inv, ssh, work, log),
	}, nil
}

// Close removes the session's working directory.
func (s *Session) Close() { os.RemoveAll(s.Work) }

// Prefixed is the log writer of one instance.
func (s *Session) Prefixed(name string) io.Writer { return s.Log.Prefixed(name + "| ") }

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
