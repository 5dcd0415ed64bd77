package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/nix-hive/nix-hive/internal/activation"
	"github.com/nix-hive/nix-hive/internal/deploy"
	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/goal"
	"github.com/nix-hive/nix-hive/internal/keyfile"
	"github.com/nix-hive/nix-hive/internal/selector"
)

// deployFlags are the deploy command's flags, as parsed.
type deployFlags struct {
	target
	perf                      perfFlags
	goal, parallel, onFailure string
	json                      bool
	request                   deploy.Request
}

func (f *deployFlags) register(fs *flag.FlagSet) {
	f.target.flags(fs)
	r := &f.request
	fs.StringVar(&f.goal, "goal", string(goal.Switch), "build, push, switch, boot, test or dry-activate")
	fs.StringVar(&f.parallel, "parallel", "10", "how many instances to copy and activate at once")
	fs.BoolVar(&r.DryRun, "dry-run", false, "print the commands that would run and change nothing")
	fs.BoolVar(&f.json, "json", false, "print every instance's outcome as JSON on stdout")
	fs.StringVar(&r.SSHKey, "ssh-key", "", "private key file for ssh (default: ssh's own)")
	fs.StringVar(&r.KnownHosts, "known-hosts", "", "known_hosts file to check host keys against (default: ssh's own)")
	fs.BoolVar(&r.AcceptNewHostKeys, "accept-new-host-keys", false, "trust a host key on first use (host keys are checked otherwise)")
	fs.StringVar(&r.SigningKey, "signing-key", "", "nix secret key file to sign closures with before pushing them to stores")
	fs.DurationVar(&r.ConfirmTimeout, "confirm-timeout", deploy.DefaultConfirmTimeout, "roll a host back unless nix-hive reaches it again within this time after switch/test (0 turns it off)")
	fs.DurationVar(&r.LockTimeout, "lock-timeout", deploy.DefaultLockTimeout, "how long to wait for another activation on the same host (nix-hive's or any switch-to-configuration's)")
	fs.DurationVar(&r.ActivationTimeout, "activation-timeout", activation.DefaultTimeout, "how long to wait for switch-to-configuration to finish on a host; past it the host keeps what the activation does")
	fs.StringVar(&f.onFailure, "on-activation-failure", string(activation.Rollback), "rollback or keep: what a failing switch-to-configuration (exit 2, 4, ...) leads to")
	f.registerRollout(fs)
	f.perf.register(fs, true)
}

// parseDeploy parses the deploy (or build) command line into a validated
// Request; fixedGoal, if set, replaces --goal.
func parseDeploy(name string, args []string, std IO, fixedGoal goal.Goal) (*deployFlags, error) {
	fs := flag.NewFlagSet("nix-hive "+name, flag.ContinueOnError)
	var f deployFlags
	f.register(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: nix-hive %s [flags]\n\n", name)
		fmt.Fprintln(fs.Output(), "Builds each system once, pushes it to each store once, copies it to each\ninstance and activates it. Flags:")
		fs.PrintDefaults()
	}
	if err := parse(fs, args, std); err != nil {
		return nil, err
	}
	if fixedGoal != "" {
		f.goal = string(fixedGoal)
	}
	r := &f.request
	var err error
	if r.Goal, err = goal.Parse(f.goal); err != nil {
		return nil, fmt.Errorf("%w: --goal: %w", ErrUsage, err)
	}
	if err := parseReach(r, f.parallel, f.on); err != nil {
		return nil, err
	}
	if r.ConfirmTimeout < 0 || r.LockTimeout < 0 || r.ActivationTimeout <= 0 {
		return nil, fmt.Errorf("%w: --confirm-timeout and --lock-timeout must not be negative, --activation-timeout must be positive", ErrUsage)
	}
	if r.OnActivationFailure, err = activation.ParsePolicy(f.onFailure); err != nil {
		return nil, fmt.Errorf("%w: --on-activation-failure: %w", ErrUsage, err)
	}
	if err := deploy.ParseWaves(r.Waves, r.Batch); err != nil {
		return nil, fmt.Errorf("%w: --wave, --batch: %w", ErrUsage, err)
	}
	if r.RebootTimeout <= 0 {
		return nil, fmt.Errorf("%w: --reboot-timeout must be positive", ErrUsage)
	}
	if err := f.perf.apply(r, std.Env); err != nil {
		return nil, err
	}
	r.Hive, r.Environ, r.Log, r.Commands = f.hive, std.Environ, std.Stderr, std.Stdout
	return &f, nil
}

func runDeploy(ctx context.Context, name string, args []string, std IO, fixedGoal goal.Goal) error {
	f, err := parseDeploy(name, args, std, fixedGoal)
	if err != nil {
		return err
	}
	report, runErr := deploy.Deploy(ctx, f.request)
	if report == nil {
		return runErr
	}
	if err := f.print(std, report); err != nil {
		return err
	}
	return runErr
}

// checkFile checks that a file given on the command line can be read.
func checkFile(flagName, path string) error {
	if path == "" {
		return nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%w: %s %s: %w", ErrUsage, flagName, path, err)
	}
	if st.IsDir() {
		return fmt.Errorf("%w: %s %s is a directory, not a file", ErrUsage, flagName, path)
	}
	return nil
}

// parseReach parses what every command that reaches hosts shares: the
// parallelism and the selection, and checks the key files.
func parseReach(r *deploy.Request, parallel, on string) error {
	var err error
	if r.Parallel, err = deploy.ParseParallel(parallel); err != nil {
		return fmt.Errorf("%w: --parallel: %w", ErrUsage, err)
	}
	if r.Selector, err = selector.Parse(on); err != nil {
		return fmt.Errorf("%w: %w", ErrUsage, err)
	}
	return checkKeys(r)
}

// checkKeys checks the key files given before any host is touched: they
// exist, and hold what their flag expects.
func checkKeys(r *deploy.Request) error {
	for flagName, path := range map[string]string{"--ssh-key": r.SSHKey, "--known-hosts": r.KnownHosts, "--signing-key": r.SigningKey} {
		if err := checkFile(flagName, path); err != nil {
			return err
		}
	}
	if r.SSHKey != "" {
		if err := keyfile.CheckSSHPrivateKey(r.SSHKey); err != nil {
			return fmt.Errorf("%w: --ssh-key: %w", ErrUsage, err)
		}
	}
	if r.SigningKey != "" {
		if err := keyfile.CheckNixSecretKey(r.SigningKey); err != nil {
			return fmt.Errorf("%w: --signing-key: %w", ErrUsage, err)
		}
	}
	return nil
}

// print writes the report: JSON with --json, else a table and each
// failure's whole error (nothing after a dry run, which printed commands).
func (f *deployFlags) print(std IO, report *engine.Report) error {
	if f.json {
		data, err := json.MarshalIndent(report, "", "  ")
		if err != nil {
			return fmt.Errorf("print the report: %w", err)
		}
		_, err = fmt.Fprintf(std.Stdout, "%s\n", data)
		return err
	}
	if f.request.DryRun {
		return nil
	}
	fmt.Fprintln(std.Stdout)
	if err := report.WriteTable(std.Stdout); err != nil {
		return err
	}
	report.Errors(std.Stderr)
	return nil
}
