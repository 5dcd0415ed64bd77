package action

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/nix-hive/nix-hive/internal/deploy"
	"github.com/nix-hive/nix-hive/internal/engine"
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

// hostKeyHint is the action's advice for an unknown host key.
const hostKeyHint = "add its key to the ssh-known-hosts input (ssh-keyscan %s, after checking the key)"

// Run runs nix-hive as the GitHub Action: it reads the INPUT_* and
// GITHUB_* variables from getenv, deploys like `nix-hive deploy`, records
// each instance's deployment in GitHub, and writes the outputs and the
// step summary. Everything it logs goes to stdout, the workflow commands
// too, so that the runner sees it in order. environ is passed on to nix and
// ssh (without secrets). Bad inputs are errors wrapping deploy.ErrUsage.
func Run(ctx context.Context, getenv func(string) string, environ []string, stdout io.Writer) error {
	log := linewriter.NewShared(stdout)
	gha := githubactions.New(githubactions.WithGetenv(githubactions.GetenvFunc(getenv)), githubactions.WithWriter(log))
	MaskSecrets(gha) // before anything else is written
	in, run, err := Parse(gha)
	if err != nil {
		for _, e := range unjoin(err) {
			gha.Errorf("%s", e)
		}
		finish(gha, Summary{Err: err})
		return fmt.Errorf("%w: %w", deploy.ErrUsage, err)
	}
	summary := &Summary{Inputs: in, Workflow: run}
	gha.Group("nix-hive: inputs")
	describeInputs(log, in, run)
	keys, removeKeys, err := WriteKeys(in)
	if err == nil {
		defer removeKeys()
	}
	if err == nil && (in.Command == Plan || in.Command == Status) {
		gha.EndGroup()
		return readOnly(ctx, gha, log, in, run, request(in, keys, environ, log))
	}
	var rec *recording
	if err == nil {
		rec, err = newRecording(ctx, gha, log, in, run, summary)
	}
	gha.EndGroup()
	if err != nil {
		summary.Err = err
		finish(gha, *summary)
		return err
	}
	gha.Group(fmt.Sprintf("nix-hive: %s", in.Goal))
	observers := append([]engine.Observer{leftOut{gha: gha, summary: summary}}, rec.observers()...)
	if in.Command == Rollback {
		summary.Report, summary.Err = rollBack(ctx, rec, in, run, request(in, keys, environ, log), observers)
	} else {
		summary.Report, summary.Err = deploy.Deploy(ctx, request(in, keys, environ, log), observers...)
	}
	gha.EndGroup()
	rec.close(ctx, gha, log)
	annotate(gha, summary.Report)
	finish(gha, *summary)
	return summary.Err
}

// request is the deployment the inputs ask for.
func request(in *Inputs, keys *Keys, environ []string, log io.Writer) deploy.Request {
	return in.Rollout.request(deploy.Request{
		Hive: in.Hive, Selector: in.Selector, Goal: in.Goal, Parallel: in.Parallel, DryRun: in.DryRun,
		SSHKey: keys.SSHKey, KnownHosts: keys.KnownHosts, SigningKey: keys.SigningKey, HostKeyHint: hostKeyHint,
		ConfirmTimeout: deploy.DefaultConfirmTimeout, LockTimeout: deploy.DefaultLockTimeout,
		Environ: NixEnviron(environ, in.NixConfig), Log: log, Commands: log,
	})
}

// annotate turns each instance that did not succeed into an error
// annotation.
func annotate(gha *githubactions.Action, report *engine.Report) {
	if report == nil {
		return
	}
	for _, n := range report.Names() {
		if o := report.Instances[n]; o.Error != "" {
			gha.WithFieldsMap(map[string]string{"title": n + " " + string(o.Result)}).Errorf("%s", o.Error)
		}
	}
}

// describeInputs logs the checked inputs, without their secrets.
func describeInputs(w io.Writer, in *Inputs, run *Workflow) {
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
	fmt.Fprintf(w, "record deployments: %s (recording: %t, unchanged instances too: %t), in environments %q\n",
		in.RecordMode, in.Record, in.RecordUnchanged, in.Environment)
	fmt.Fprintf(w, "ssh private key: %s; known hosts: %s; signing key: %s; nix config: %d lines\n",
		given(in.SSHKey), given(in.KnownHosts), given(in.SigningKey), lineCount(in.NixConfig))
}

// finish writes the outputs and the step summary; failing to is a
// warning, as the deployment itself is done.
func finish(gha *githubactions.Action, summary Summary) {
	if err := WriteOutputs(gha, summary.Report, summary.IDs); err != nil {
		gha.Warningf("%s", err)
	}
	if err := WriteSummary(gha, summary.Markdown()); err != nil {
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
