package action

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"

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
	// observer records in GitHub; nil when recording is off.
	observer *record.Observer
}

var (
	_ engine.Observer    = (*recording)(nil)
	_ deploy.PlanChecker = (*recording)(nil)
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
	r.observer = record.New(record.Config{
		Recorder: gh, Goal: in.Goal, LogURL: logURL, Active: gh,
		Warn: func(msg string) { gha.Warningf("%s", msg) },
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
	for _, n := range slices.Sorted(maps.Keys(r.summary.IDs)) {
		fmt.Fprintf(log, "%s: deployment %d in %s\n", n, r.summary.IDs[n], r.run.EnvironmentURL(r.summary.Environments[n]))
	}
}
