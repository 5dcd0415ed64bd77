package deploy

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nix-hive/nix-hive/hive"
	"github.com/nix-hive/nix-hive/internal/activation"
	"github.com/nix-hive/nix-hive/internal/build"
	"github.com/nix-hive/nix-hive/internal/discover"
	"github.com/nix-hive/nix-hive/internal/discover/ec2"
	"github.com/nix-hive/nix-hive/internal/discover/terraform"
	"github.com/nix-hive/nix-hive/internal/distribute"
	"github.com/nix-hive/nix-hive/internal/dryrun"
	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/evalcache"
	"github.com/nix-hive/nix-hive/internal/flake"
	"github.com/nix-hive/nix-hive/internal/hostkeys"
	"github.com/nix-hive/nix-hive/internal/inventory"
	"github.com/nix-hive/nix-hive/internal/linewriter"
	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/selector"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

// Deploy runs req: it evaluates the hive, selects the instances, checks
// the stores' signing keys, lets the plan checkers among the observers
// refuse the plan, writes the run's ssh config, checks every host key and
// that nix on the instances trusts their login to use their store, and
// runs the engine with the observers.
// The report is nil when the run stopped before any instance was planned.
func Deploy(ctx context.Context, req Request, observers ...engine.Observer) (*engine.Report, error) {
	work, err := os.MkdirTemp("", "nix-hive-")
	if err != nil {
		return nil, fmt.Errorf("make a working directory: %w", err)
	}
	defer os.RemoveAll(work)
	runner := &process.Exec{Environ: req.Environ}
	inv, ssh, err := prepare(ctx, req, runner, work, Checkers(observers))
	if err != nil {
		return nil, err
	}
	// The runner at exit: the one without the variables keys are read from.
	defer func() { closeSSH(ctx, ssh, runner, req.Log) }()
	if err := checkSigning(req, inv); err != nil {
		return nil, err
	}
	ro, err := prepareRollout(ctx, req, runner, inv)
	if err != nil {
		return nil, err
	}
	defer ro.keys.Clear()
	runner = ro.withoutKeyVars(runner)
	if err := checkHosts(ctx, req, runner, ssh, inv); err != nil {
		return nil, err
	}
	log := linewriter.NewShared(orDiscard(req.Log))
	e := &engine.Engine{
		Stages:       ro.stages(stages(req, runner, pushRunner(runner, inv), inv, ssh, work, log, evalCache(ctx, req, runner, inv, work)), req, runner, ssh, inv, log),
		Goal:         req.Goal,
		Parallel:     req.Parallel,
		Observers:    append([]engine.Observer{progress(log)}, observers...),
		Waves:        func(*inventory.Inventory) []engine.Wave { return ro.waves },
		RollbackWave: ro.rollbackWave,
		Reboot:       req.Reboot,
	}
	return e.Run(ctx, inv)
}

// prepare is what every command that works on hosts does first: evaluate
// the hive and select, fetch its flake, write the warnings, check the
// pins, let the plan checkers refuse the selection, and write the run's
// ssh config into work.
func prepare(ctx context.Context, req Request, runner *process.Exec, work string, checkers []PlanChecker) (*inventory.Inventory, *sshconfig.Config, error) {
	inv, err := Load(ctx, runner, work, req.Hive, req.Selector, req.Readers)
	if err != nil {
		return nil, nil, err
	}
	if req.Shard.N > 1 {
		inv = inv.Only(req.Shard.Select(inv))
	}
	if inv.Flake != nil {
		if err := flake.Fetch(ctx, runner, inv.Flake); err != nil {
			return nil, nil, fmt.Errorf("no host was touched: %w", err)
		}
	}
	WriteWarnings(orDiscard(req.Log), inv)
	if err := inventory.Unpinned(inv, nixPath(req.Environ)); err != nil {
		return nil, nil, fmt.Errorf("no host was touched: %w", err)
	}
	for _, pc := range checkers {
		if err := pc.CheckPlan(ctx, inv); err != nil {
			return nil, nil, err
		}
	}
	ssh, err := sshconfig.New(work, inv.SSHBlocks(), sshconfig.Options{
		IdentityFile: absPath(req.SSHKey), KnownHosts: absPath(req.KnownHosts), AcceptNewHostKeys: req.AcceptNewHostKeys,
	})
	if err != nil {
		return nil, nil, err
	}
	return inv, ssh, nil
}

// checkHostKeys checks every host key the run needs, unless the goal
// needs no host or it is a dry run; then it opens the master connections
// of the jump hosts, which many connections share.
func checkHostKeys(ctx context.Context, req Request, runner process.Runner, ssh *sshconfig.Config, inv *inventory.Inventory) error {
	if !req.Goal.NeedsHosts() || req.DryRun {
		return nil
	}
	checker := &hostkeys.Checker{SSH: ssh, Hint: req.HostKeyHint}
	targets := Targets(inv)
	if err := checker.Check(ctx, targets); err != nil {
		return fmt.Errorf("no host was touched: %w", err)
	}
	ssh.OpenMasters(ctx, runner, JumpHosts(ssh, targets))
	return nil
}

// evalCache returns the run's evaluation cache, or nil when req has none
// or it is a dry run; when the inputs cannot be hashed, the run goes on
// without one, with a warning.
func evalCache(ctx context.Context, req Request, r process.Runner, inv *inventory.Inventory, work string) *evalcache.Cache {
	if req.EvalCache == "" || req.DryRun {
		return nil
	}
	key, err := evalcache.InputsKey(ctx, r, evalcache.Inputs{Inventory: inv, ExprDir: filepath.Join(work, "hive"), Environ: req.Environ})
	if err != nil {
		fmt.Fprintf(orDiscard(req.Log), "warning: %v; evaluating every system\n", err)
		return nil
	}
	return &evalcache.Cache{Dir: req.EvalCache, Inputs: key}
}

// closeSSH ends the run's ssh master connections, also after a failure
// or a cancellation; what it cannot close is a warning in log.
func closeSSH(ctx context.Context, ssh *sshconfig.Config, r process.Runner, log io.Writer) {
	if err := ssh.Close(ctx, r); err != nil {
		fmt.Fprintf(orDiscard(log), "warning: %v\n", err)
	}
}

// Load evaluates the hive with nix-hive's expressions written into
// workDir, merges the machines its discover sources find (each source
// read once, through readers; a nil reader is the real one) and returns
// the inventory narrowed to the selected instances.
func Load(ctx context.Context, r process.Runner, workDir, hiveArg string, sel selector.Selector, readers discover.Readers) (*inventory.Inventory, error) {
	exprs, err := hive.Write(filepath.Join(workDir, "hive"))
	if err != nil {
		return nil, err
	}
	inv, err := inventory.Load(ctx, r, exprs, hiveArg, Readers(readers).Cached())
	if err != nil {
		return nil, err
	}
	names, err := sel.Select(inv.InstanceNames(), inv.Tags)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", inv.File, err)
	}
	return inv.Only(names), nil
}

// Readers fills in the real reader for each kind of discover source r
// leaves nil: EC2 through the AWS SDK's standard configuration, and
// Terraform state files.
//
// The AWS SDK reads its configuration (credentials, AWS_PROFILE,
// AWS_ENDPOINT_URL_EC2, ...) from the process environment and has no
// option to take another: a Request's Environ must therefore be the
// process environment for discovery, as both front ends make it
// (os.Environ() on the command line and in the action).
func Readers(r discover.Readers) discover.Readers {
	if r.EC2 == nil {
		r.EC2 = ec2.Reader{}
	}
	if r.Terraform == nil {
		r.Terraform = terraform.Reader{}
	}
	return r
}

// WriteWarnings writes the inventory's warnings to w, one "warning: " line
// each.
func WriteWarnings(w io.Writer, inv *inventory.Inventory) {
	for _, line := range inv.Warnings {
		fmt.Fprintf(w, "warning: %s\n", line)
	}
}

// stages assembles the real stages, or their dry-run decorator.
func stages(req Request, r, push process.Runner, inv *inventory.Inventory, ssh *sshconfig.Config, work string, log *linewriter.Shared, cache *evalcache.Cache) engine.Stages {
	prefixed := func(name string) io.Writer { return log.Prefixed(name + "| ") }
	b := &build.Nix{Runner: r, Inventory: inv, ExprDir: filepath.Join(work, "hive"), RootDir: filepath.Join(work, "roots"), Log: prefixed, Cache: cache}
	d := &distribute.Nix{Runner: push, Inventory: inv, SSH: ssh, SigningKey: absPath(req.SigningKey), Log: prefixed}
	h := &activation.Hosts{Runner: r, SSH: ssh, Log: prefixed, Options: activation.Options{
		ConfirmTimeout: req.ConfirmTimeout, LockTimeout: req.LockTimeout,
		Timeout: req.ActivationTimeout, OnFailure: req.OnActivationFailure,
		HoldFor: holdFor(inv), RebootTimeout: req.RebootTimeout,
	}}
	if req.DryRun {
		b.RootDir = "" // nothing is built, so nothing needs a root
		return dryrun.Stages(b, d, h, orDiscard(req.Commands))
	}
	return engine.Stages{Builder: b, Distributor: d, Hosts: h}
}

// pushRunner is the distributor's runner: r, except that it passes the
// AWS_* variables (which every other command goes without) on to nix when
// a selected store is an S3 bucket, as nix copy --to s3:// reads its
// credentials from them.
func pushRunner(r *process.Exec, inv *inventory.Inventory) process.Runner {
	for _, s := range inv.Stores {
		if strings.HasPrefix(s.URL, "s3://") {
			keep := *r
			keep.Keep = append(slices.Clone(r.Keep), process.AWSPrefix)
			return &keep
		}
	}
	return r
}

// progress prints one line per state change.
func progress(w io.Writer) engine.Observer {
	return engine.ObserverFunc(func(_ context.Context, e engine.Event) {
		fmt.Fprintln(w, e.String())
	})
}

// nixPath is NIX_PATH as nix will see it in environ.
func nixPath(environ []string) string {
	for _, kv := range slices.Backward(environ) {
		if v, ok := strings.CutPrefix(kv, "NIX_PATH="); ok {
			return v
		}
	}
	return ""
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

func absPath(p string) string {
	if p == "" {
		return ""
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}
