package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/nix-hive/nix-hive/internal/activation"
	"github.com/nix-hive/nix-hive/internal/deploy"
	"github.com/nix-hive/nix-hive/internal/hostkeys"
	"github.com/nix-hive/nix-hive/internal/inventory"
	"github.com/nix-hive/nix-hive/internal/keyfile"
	"github.com/nix-hive/nix-hive/internal/linewriter"
	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

// deployConfig is a validated deploy command line (or action inputs).
type deployConfig struct {
	target
	goal           deploy.Goal
	parallel       int
	dryRun         bool
	json           bool
	sshKey         string
	knownHosts     string
	acceptNewKeys  bool
	signingKey     string
	confirmTimeout time.Duration
	lockTimeout    time.Duration
	// loaded, if set, sees the inventory and the selected instances before
	// anything is built; its error stops the run (the action checks and
	// plans its GitHub deployments there).
	loaded func(inv *inventory.Inventory, names []string) error
	// hostKeyHint, if set, replaces the advice for an unknown host key
	// (see hostkeys.Checker.Hint).
	hostKeyHint string
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

func runDeploy(ctx context.Context, name string, args []string, std IO, fixedGoal deploy.Goal) error {
	fs := flag.NewFlagSet("nix-hive "+name, flag.ContinueOnError)
	var c deployConfig
	c.flags(fs)
	goal := fs.String("goal", string(deploy.GoalSwitch), "build, push, switch, boot, test or dry-activate")
	parallel := fs.String("parallel", "10", "how many instances to copy and activate at once")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: nix-hive %s [flags]\n\n", name)
		fmt.Fprintln(fs.Output(), "Builds each system once, pushes it to each store once, copies it to each\ninstance and activates it. Flags:")
		fs.PrintDefaults()
	}
	if err := parse(fs, args, std); err != nil {
		return err
	}
	if fixedGoal != "" {
		*goal = string(fixedGoal)
	}
	var err error
	if c.goal, err = deploy.ParseGoal(*goal); err != nil {
		return fmt.Errorf("%w: --goal: %w", ErrUsage, err)
	}
	if c.parallel, err = deploy.ParseParallel(*parallel); err != nil {
		return fmt.Errorf("%w: --parallel: %w", ErrUsage, err)
	}
	if err := c.checkKeys(); err != nil {
		return err
	}
	if c.confirmTimeout < 0 || c.lockTimeout < 0 {
		return fmt.Errorf("%w: --confirm-timeout and --lock-timeout must not be negative", ErrUsage)
	}
	_, err = c.execute(ctx, std, nil)
	return err
}

// checkKeys checks the key files given before any host is touched: they
// exist, and hold what their flag expects.
func (c *deployConfig) checkKeys() error {
	for flagName, path := range map[string]string{"--ssh-key": c.sshKey, "--known-hosts": c.knownHosts, "--signing-key": c.signingKey} {
		if err := checkFile(flagName, path); err != nil {
			return err
		}
	}
	if c.sshKey != "" {
		if err := keyfile.CheckSSHPrivateKey(c.sshKey); err != nil {
			return fmt.Errorf("%w: --ssh-key: %w", ErrUsage, err)
		}
	}
	if c.signingKey != "" {
		if err := keyfile.CheckNixSecretKey(c.signingKey); err != nil {
			return fmt.Errorf("%w: --signing-key: %w", ErrUsage, err)
		}
	}
	return nil
}

func (c *deployConfig) flags(fs *flag.FlagSet) {
	c.target.flags(fs)
	fs.BoolVar(&c.dryRun, "dry-run", false, "print the commands that would run and change nothing")
	fs.BoolVar(&c.json, "json", false, "print every instance's outcome as JSON on stdout")
	fs.StringVar(&c.sshKey, "ssh-key", "", "private key file for ssh (default: ssh's own)")
	fs.StringVar(&c.knownHosts, "known-hosts", "", "known_hosts file to check host keys against (default: ssh's own)")
	fs.BoolVar(&c.acceptNewKeys, "accept-new-host-keys", false, "trust a host key on first use (host keys are checked otherwise)")
	fs.StringVar(&c.signingKey, "signing-key", "", "nix secret key file to sign closures with before pushing them to stores")
	fs.DurationVar(&c.confirmTimeout, "confirm-timeout", 30*time.Second, "roll a host back unless nix-hive reaches it again within this time after switch/test (0 turns it off)")
	fs.DurationVar(&c.lockTimeout, "lock-timeout", 60*time.Second, "how long to wait for another nix-hive activation on the same host")
}

// execute runs a validated deployment; observer, if set, also receives
// every state change (the action records them in GitHub).
func (c *deployConfig) execute(ctx context.Context, std IO, observer deploy.Observer) (*deploy.Report, error) {
	dir, cleanup, err := tempDir()
	if err != nil {
		return nil, err
	}
	defer cleanup()
	var runner process.Runner = &process.Exec{Environ: std.Environ}
	inv, names, err := c.target.load(ctx, runner, dir)
	if err != nil {
		return nil, err
	}
	if c.loaded != nil {
		if err := c.loaded(inv, names); err != nil {
			return nil, err
		}
	}
	ssh, err := sshconfig.Write(dir, inv.SSHConfig, sshconfig.Options{
		IdentityFile: absPath(c.sshKey), KnownHosts: absPath(c.knownHosts), AcceptNewHostKeys: c.acceptNewKeys,
	})
	if err != nil {
		return nil, err
	}
	if c.goal != deploy.GoalBuild && !c.dryRun {
		checker := &hostkeys.Checker{Runner: runner, SSH: ssh, Hint: c.hostKeyHint}
		if err := checker.Check(ctx, sshTargets(inv, names)); err != nil {
			return nil, fmt.Errorf("no host was touched: %w", err)
		}
	}
	out := linewriter.NewShared(std.Stderr)
	if c.dryRun {
		runner = &process.Dry{Out: std.Stdout}
	}
	engine := &deploy.Engine{
		Runner:    runner,
		Inventory: inv,
		SSH:       ssh,
		Options: deploy.Options{
			Goal: c.goal, Parallel: c.parallel, DryRun: c.dryRun,
			SigningKey: absPath(c.signingKey), ExprDir: filepath.Join(dir, "hive"), RootDir: filepath.Join(dir, "roots"),
			Activation: activation.Options{ConfirmTimeout: c.confirmTimeout, LockTimeout: c.lockTimeout},
		},
		Observer: progress(out, observer),
		Log:      func(name string) io.Writer { return out.Prefixed(name + "| ") },
	}
	report, runErr := engine.Run(ctx, names)
	if report == nil {
		return nil, runErr
	}
	if err := c.print(std, inv, report); err != nil {
		return report, err
	}
	return report, runErr
}

// progress prints one line per state change and forwards it to next.
func progress(out *linewriter.Shared, next deploy.Observer) deploy.Observer {
	return deploy.ObserverFunc(func(ctx context.Context, e deploy.Event) {
		fmt.Fprintln(out, e.String())
		if next != nil {
			next.Observe(ctx, e)
		}
	})
}

func (c *deployConfig) print(std IO, inv *inventory.Inventory, report *deploy.Report) error {
	if c.json {
		data, err := json.MarshalIndent(report, "", "  ")
		if err != nil {
			return fmt.Errorf("print the report: %w", err)
		}
		_, err = fmt.Fprintf(std.Stdout, "%s\n", data)
		return err
	}
	if c.dryRun {
		return nil
	}
	fmt.Fprintln(std.Stdout)
	if err := report.WriteTable(std.Stdout); err != nil {
		return err
	}
	report.Errors(std.Stderr)
	return nil
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

// sshTargets lists the ssh host aliases the runner connects to: the
// selected instances and the ssh stores they push to.
func sshTargets(inv *inventory.Inventory, names []string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(alias string) {
		if alias != "" && !seen[alias] {
			seen[alias] = true
			out = append(out, alias)
		}
	}
	for _, n := range names {
		if store, ok := inv.Stores[inv.Instances[n].Store]; ok {
			add(storeHost(store.URL))
		}
	}
	for _, n := range names {
		add(n)
	}
	return out
}

// storeHost returns the ssh host alias of an ssh:// or ssh-ng:// store URL,
// or "" for other stores.
func storeHost(storeURL string) string {
	u, err := url.Parse(storeURL)
	if err != nil || (u.Scheme != "ssh" && u.Scheme != "ssh-ng") {
		return ""
	}
	return u.Hostname()
}
