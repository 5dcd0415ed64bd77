package action

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/sethvargo/go-githubactions"

	"github.com/nix-hive/nix-hive/internal/deploy"
	"github.com/nix-hive/nix-hive/internal/deployments"
	"github.com/nix-hive/nix-hive/internal/deployments/record"
	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/inventory"
)

// recording is the action's part in a deployment: it checks the plan's
// GitHub environment names and records each instance's deployment (when
// the inputs ask for it) as the engine reports progress.
type recording struct {
	in      *Inputs
	run     *Workflow
	summary *Summary
	// observer records in GitHub, with gh; nil when recording is off.
	observer *record.Observer
	gh       *deployments.GitHub
}

var (
	_ engine.PlanObserver = (*recording)(nil)
	_ deploy.PlanChecker  = (*recording)(nil)
)

// newRecording prepares the recording. When deployments are recorded, it
// looks up the job's log URL for the statuses first.
func newRecording(ctx context.Context, gha *githubactions.Action, log io.Writer, in *Inputs, run *Workflow, summary *Summary) (*recording, error) {
	r := &recording{in: in, run: run, summary: summary}
	if !in.Record {
		fmt.Fprintln(log, "deployments are not recorded in GitHub")
		return r, nil
	}
	gh, err := deployments.NewGitHub(deployments.Config{Token: in.Token, APIURL: run.APIURL, Owner: run.Owner, Repo: run.Repo})
	if err != nil {
		return nil, err
	}
	lookup, cancel := context.WithTimeout(ctx, jobLookupTimeout)
	defer cancel()
	logURL, err := LogURL(lookup, gh, run)
	if err != nil {
		fmt.Fprintf(log, "deployment statuses link the run, not the job (grant `permissions: actions: read` for job links): %v\n", err)
	}
	fmt.Fprintf(log, "deployment statuses link %s\n", logURL)
	r.gh = gh
	r.observer = record.New(record.Config{
		Recorder: gh, Goal: in.Goal, LogURL: logURL, Active: gh, Finder: gh, Limits: gh,
		Mode: in.RecordMode, RecordUnchanged: in.RecordUnchanged,
		Group: func(env string) deployments.Request { return GroupRequest(in, run, env) },
		Warn:  func(msg string) { gha.Warningf("%s", msg) },
		Log:   func(msg string) { fmt.Fprintln(log, msg) },
	})
	return r, nil
}

func (r *recording) observers() []engine.Observer { return []engine.Observer{r} }

// CheckPlan implements deploy.PlanChecker: every selected instance gets a
// valid GitHub environment name, and the deployment to record.
func (r *recording) CheckPlan(_ context.Context, inv *inventory.Inventory) error {
	reqs, err := Requests(r.in, r.run, inv, inv.InstanceNames())
	if err != nil {
		return fmt.Errorf("%w: %w", deploy.ErrUsage, err)
	}
	r.summary.Flake = inv.Flake
	r.summary.Environments = map[string]string{}
	for n, req := range reqs {
		r.summary.Environments[n] = req.Environment
	}
	if r.observer != nil {
		r.observer.Plan(reqs)
	}
	return nil
}

// ObservePlan implements engine.PlanObserver.
func (r *recording) ObservePlan(ctx context.Context, p *engine.Plan) {
	if r.observer != nil {
		r.observer.ObservePlan(ctx, p)
	}
}

// Observe implements engine.Observer.
func (r *recording) Observe(ctx context.Context, e engine.Event) {
	if r.observer != nil {
		r.observer.Observe(ctx, e)
	}
}

// close waits, within bounds, for the statuses still on their way to
// GitHub, and logs each recorded deployment.
func (r *recording) close(ctx context.Context, gha *githubactions.Action, log io.Writer) {
	if r.observer == nil {
		return
	}
	gha.Group("nix-hive: record deployments in GitHub")
	defer gha.EndGroup()
	timeout := recordTimeout
	if ctx.Err() != nil {
		timeout = cancelledRecordTimeout
	}
	if err := r.observer.Close(timeout); err != nil {
		gha.Warningf("%s", err)
	}
	r.summary.IDs = r.observer.IDs()
	r.summary.Links = r.observer.Links()
	r.summary.Recording = r.observer.Decision().Message
	for _, n := range slices.Sorted(maps.Keys(r.summary.IDs)) {
		env := r.summary.Links[n].Environment
		fmt.Fprintf(log, "%s: deployment %d in %s\n", n, r.summary.IDs[n], r.run.EnvironmentURL(env))
	}
	b := r.gh.Budget()
	fmt.Fprintf(log, "GitHub requests: %d writes, %d reads; %d writes left this hour, %d requests left until %s\n",
		b.WritesMade, b.ReadsMade, b.Writes, b.Requests, b.Reset.UTC().Format(time.RFC3339))
}
