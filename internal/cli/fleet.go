package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/nix-hive/nix-hive/internal/deploy"
	"github.com/nix-hive/nix-hive/internal/plan"
	"github.com/nix-hive/nix-hive/internal/status"
)

// hostFlags are the flags of the commands that read hosts (plan, status,
// rollback): the selection, ssh and --json.
type hostFlags struct {
	target
	perf     perfFlags
	parallel string
	json     bool
	request  deploy.Request
}

func (f *hostFlags) register(fs *flag.FlagSet) {
	f.target.flags(fs)
	r := &f.request
	fs.StringVar(&f.parallel, "parallel", "10", "how many hosts to work on at once")
	fs.BoolVar(&f.json, "json", false, "print the result as JSON on stdout")
	fs.StringVar(&r.SSHKey, "ssh-key", "", "private key file for ssh (default: ssh's own)")
	fs.StringVar(&r.KnownHosts, "known-hosts", "", "known_hosts file to check host keys against (default: ssh's own)")
	fs.BoolVar(&r.AcceptNewHostKeys, "accept-new-host-keys", false, "trust a host key on first use (host keys are checked otherwise)")
	f.perf.register(fs, false)
}

// parseHosts parses a host-reading command's line; extra registers its
// own flags.
func parseHosts(name, doc string, args []string, std IO, extra func(*flag.FlagSet)) (*hostFlags, error) {
	fs := flag.NewFlagSet("nix-hive "+name, flag.ContinueOnError)
	var f hostFlags
	f.register(fs)
	if extra != nil {
		extra(fs)
	}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: nix-hive %s [flags]\n\n%s\n\nFlags:\n", name, doc)
		fs.PrintDefaults()
	}
	if err := parse(fs, args, std); err != nil {
		return nil, err
	}
	r := &f.request
	if err := parseReach(r, f.parallel, f.on); err != nil {
		return nil, err
	}
	if err := f.perf.apply(r, std.Env); err != nil {
		return nil, err
	}
	r.Hive, r.Environ, r.Log = f.hive, std.Environ, std.Stderr
	return &f, nil
}

// output prints v as JSON with --json, else with text.
func (f *hostFlags) output(w io.Writer, v any, text func(io.Writer) error) error {
	if !f.json {
		return text(w)
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("print the result: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", data)
	return err
}

const planDoc = `Says what deploying would do to each selected instance, and changes nothing
on any host: evaluates each system, asks each host what it runs (read-only
ssh), builds the systems of the instances that would change, and prints
each one's closure diff (packages added, removed, changed version, with
size deltas). Exit code 0 when every instance was planned, 1 when any is
unknown.`

func runPlan(ctx context.Context, args []string, std IO) error {
	f, err := parseHosts("plan", planDoc, args, std, nil)
	if err != nil {
		return err
	}
	res, runErr := plan.Run(ctx, f.request)
	if res == nil {
		return runErr
	}
	if err := f.output(std.Stdout, res, res.WriteText); err != nil {
		return err
	}
	return runErr
}

const statusDoc = `Compares what each selected instance runs (/run/current-system and the
system profile, read over read-only ssh) with the hive's target as it
evaluates now (nothing is built). Exit code 3 when any instance drifted or
could not be reached. (The action compares with GitHub's record instead.)`

func runStatus(ctx context.Context, args []string, std IO) error {
	f, err := parseHosts("status", statusDoc, args, std, nil)
	if err != nil {
		return err
	}
	res, runErr := status.Run(ctx, f.request, status.FromHive)
	if res == nil {
		return runErr
	}
	if err := f.output(std.Stdout, res, res.WriteText); err != nil {
		return err
	}
	return runErr
}
