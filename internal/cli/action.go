package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/nix-hive/nix-hive/internal/action"
	"github.com/nix-hive/nix-hive/internal/deploy"
	"github.com/nix-hive/nix-hive/internal/deployments"
	"github.com/nix-hive/nix-hive/internal/deployments/record"
	"github.com/nix-hive/nix-hive/internal/inventory"
	"github.com/nix-hive/nix-hive/internal/linewriter"
)

// Bounds on the action's waits for GitHub.
const (
	// jobLookupTimeout bounds finding the job's log URL.
	jobLookupTimeout = 20 * time.Second
	// recordTimeout bounds the wait for statuses still on their way to
	// GitHub once the deployment is done; cancelledRecordTimeout when the
	// run was cancelled, which leaves little time.
	recordTimeout          = 5 * time.Minute
	cancelledRecordTimeout = 5 * time.Second
)

// runAction runs nix-hive as the GitHub Action: it reads the INPUT_* and
// GITHUB_* variables, deploys like `nix-hive deploy`, records each
// instance's deployment in GitHub, and writes the outputs and the step
// summary. Everything it logs goes to stdout, the workflow commands too,
// so that the runner sees it in order.
func runAction(ctx context.Context, args []string, std IO) error {
	if len(args) > 0 {
		return fmt.Errorf("%w: nix-hive action takes no arguments; it reads its inputs from the INPUT_* variables", ErrUsage)
	}
	log := linewriter.NewShared(std.Stdout)
	gha := githubactions.New(githubactions.WithGetenv(githubactions.GetenvFunc(std.Env)), githubactions.WithWriter(log))
	action.MaskSecrets(gha) // before anything else is written

	in, run, err := action.Parse(gha)
	if err != nil {
		for _, e := range unjoin(err) {
			gha.Errorf("%s", e)
		}
		finishAction(gha, action.Summary{Err: err})
		return fmt.Errorf("%w: %w", ErrUsage, err)
	}
	summary := action.Summary{Inputs: in, Run: run}
	gha.Group("nix-hive: inputs")
	describeInputs(log, in, run)
	keys, removeKeys, err := action.WriteKeys(in)
	if err != nil {
		gha.EndGroup()
		summary.Err = err
		finishAction(gha, summary)
		return err
	}
	defer removeKeys()
	observer, err := newRecorder(ctx, gha, log, in, run)
	gha.EndGroup()
	if err != nil {
		summary.Err = err
		finishAction(gha, summary)
		return err
	}

	c := deployConfig{}
	c.flags(flag.NewFlagSet("action", flag.ContinueOnError)) // the deploy command's defaults
	c.target = target{hive: in.Hive, on: in.Targets}
	c.goal, c.parallel, c.dryRun = in.Goal, in.Parallel, in.DryRun
	c.sshKey, c.knownHosts, c.signingKey = keys.SSHKey, keys.KnownHosts, keys.SigningKey
	c.hostKeyHint = "add its key to the ssh-known-hosts input (ssh-keyscan %s, after checking the key)"
	c.loaded = func(inv *inventory.Inventory, names []string) error {
		reqs, err := action.Requests(in, run, inv, names)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrUsage, err)
		}
		summary.Environments = map[string]string{}
		for n, r := range reqs {
			summary.Environments[n] = r.Environment
		}
		if observer != nil {
			observer.Plan(reqs)
		}
		return nil
	}

	gha.Group(fmt.Sprintf("nix-hive: %s", in.Goal))
	var obs deploy.Observer
	if observer != nil {
		obs = observer
	}
	deployIO := IO{Stdout: log, Stderr: log, Env: std.Env, Environ: action.NixEnviron(std.Environ, in.NixConfig)}
	summary.Report, summary.Err = c.execute(ctx, deployIO, obs)
	gha.EndGroup()

	if observer != nil {
		gha.Group("nix-hive: record deployments in GitHub")
		timeout := recordTimeout
		if ctx.Err() != nil {
			timeout = cancelledRecordTimeout
		}
		if err := observer.Close(timeout); err != nil {
			gha.Warningf("%s", err)
		}
		summary.IDs = observer.IDs()
		for _, n := range slices.Sorted(maps.Keys(summary.IDs)) {
			fmt.Fprintf(log, "%s: deployment %d in %s\n", n, summary.IDs[n], run.EnvironmentURL(summary.Environments[n]))
		}
		gha.EndGroup()
	}
	if summary.Report != nil {
		for _, n := range summary.Report.Names() {
			if o := summary.Report.Instances[n]; o.Error != "" {
				gha.WithFieldsMap(map[string]string{"title": n + " " + string(o.Result)}).Errorf("%s", o.Error)
			}
		}
	}
	finishAction(gha, summary)
	return summary.Err
}

// newRecorder returns the observer that records deployments in GitHub, or
// nil when the inputs turn recording off. It looks up the job's log URL
// for the statuses first.
func newRecorder(ctx context.Context, gha *githubactions.Action, log io.Writer, in *action.Inputs, run *action.Run) (*record.Observer, error) {
	if !in.Record {
		fmt.Fprintln(log, "deployments are not recorded in GitHub")
		return nil, nil
	}
	gh, err := deployments.NewGitHub(deployments.Config{Token: in.Token, APIURL: run.APIURL, Owner: run.Owner, Repo: run.Repo})
	if err != nil {
		return nil, err
	}
	lookup, cancel := context.WithTimeout(ctx, jobLookupTimeout)
	defer cancel()
	logURL, err := action.LogURL(lookup, gh, run)
	if err != nil {
		fmt.Fprintf(log, "deployment statuses link the run, not the job (grant `permissions: actions: read` for job links): %v\n", err)
	}
	fmt.Fprintf(log, "deployment statuses link %s\n", logURL)
	return record.New(record.Config{
		Recorder: gh, Goal: in.Goal, LogURL: logURL, Active: gh,
		Warn: func(msg string) { gha.Warningf("%s", msg) },
	}), nil
}

// describeInputs logs the checked inputs, without their secrets.
func describeInputs(w io.Writer, in *action.Inputs, run *action.Run) {
	given := func(s string) string {
		if s == "" {
			return "not given"
		}
		return "given"
	}
	targets := in.Targets
	if targets == "" {
		targets = "every instance"
	}
	fmt.Fprintf(w, "%s/%s at %s, %s\n", run.Owner, run.Repo, run.SHA, run.Trigger)
	fmt.Fprintf(w, "hive: %s\ntargets: %s\ngoal: %s\nparallel: %d\ndry-run: %t\n", in.Hive, targets, in.Goal, in.Parallel, in.DryRun)
	fmt.Fprintf(w, "record deployments: %t, in environments %q\n", in.Record, in.Environment)
	fmt.Fprintf(w, "ssh private key: %s; known hosts: %s; signing key: %s; nix config: %d lines\n",
		given(in.SSHKey), given(in.KnownHosts), given(in.SigningKey), lineCount(in.NixConfig))
}

// finishAction writes the outputs and the step summary; failing to is a
// warning, as the deployment itself is done.
func finishAction(gha *githubactions.Action, summary action.Summary) {
	if err := action.WriteOutputs(gha, summary.Report, summary.IDs); err != nil {
		gha.Warningf("%s", err)
	}
	if err := action.WriteSummary(gha, summary.Markdown()); err != nil {
		gha.Warningf("%s", err)
	}
}

// unjoin splits errors.Join errors into their parts.
func unjoin(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, unjoin(e)...)
	}
	return out
}

func lineCount(s string) int {
	if strings.TrimSpace(s) == "" {
		return 0
	}
	return len(strings.Split(strings.TrimSpace(s), "\n"))
}
