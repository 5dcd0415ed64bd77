package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"

	"github.com/sethvargo/go-githubactions"

	"github.com/nix-hive/nix-hive/internal/deploy"
	"github.com/nix-hive/nix-hive/internal/deployments"
	"github.com/nix-hive/nix-hive/internal/goal"
	"github.com/nix-hive/nix-hive/internal/plan"
	"github.com/nix-hive/nix-hive/internal/status"
)

// PlanMarker is the hidden marker that finds nix-hive's plan comment on a
// pull request, so that each plan edits it instead of adding another.
const PlanMarker = "<!-- nix-hive:plan -->"

// readOnly runs the commands that change no host, plan and status: their
// result goes to the step summary, the plan or status output, and for a
// plan the pull request's comment; drifted instances become annotations.
func readOnly(ctx context.Context, gha *githubactions.Action, log io.Writer, in *Inputs, run *Workflow, req deploy.Request) error {
	gha.Group("nix-hive: " + string(in.Command))
	var md string
	var result any
	var err error
	if in.Command == Plan {
		md, result, err = runPlan(ctx, gha, log, in, run, req)
	} else {
		md, result, err = runStatus(ctx, gha, in, run, req)
	}
	gha.EndGroup()
	head := fmt.Sprintf("## nix-hive %s\n\n`%s/%s` at `%s`, %s.\n\n", in.Command, run.Owner, run.Repo, short(run.SHA), cell(run.Trigger.String()))
	if md == "" {
		gha.Errorf("%s", err)
		md = fmt.Sprintf("nix-hive could not %s:\n\n<pre>%s</pre>\n", in.Command, html.EscapeString(fmt.Sprint(err)))
	}
	if err := WriteSummary(gha, head+md); err != nil {
		gha.Warningf("%s", err)
	}
	if result != nil {
		data, jerr := json.Marshal(result)
		if jerr == nil {
			jerr = fileCommand("write the outputs", func() { gha.SetOutput(string(in.Command), string(data)) })
		}
		if jerr != nil {
			gha.Warningf("write the %s output: %v", in.Command, jerr)
		}
	}
	return err
}

// runPlan plans, and keeps the pull request's plan comment up to date. It
// returns the summary's markdown ("" when nothing was planned) and the
// result.
func runPlan(ctx context.Context, gha *githubactions.Action, log io.Writer, in *Inputs, run *Workflow, req deploy.Request) (string, any, error) {
	res, err := plan.Run(ctx, req)
	if res == nil {
		return "", nil, err
	}
	if werr := res.WriteText(log); werr != nil {
		gha.Warningf("%s", werr)
	}
	for _, n := range res.Names() {
		if i := res.Instances[n]; i.Error != "" {
			gha.WithFieldsMap(map[string]string{"title": n + " " + string(i.Plan)}).Errorf("%s", i.Error)
		}
	}
	md := res.Markdown()
	if in.SSHKey == "" {
		md += "\nNo ssh-private-key was given (a pull request from a fork gets no secrets): the hosts could not be asked what they run.\n"
	}
	body := fmt.Sprintf("%s\n### nix-hive plan for `%s`\n\n%s\n<sub>Updated by [this run](%s).</sub>\n", PlanMarker, short(run.SHA), md, run.URL())
	note := comment(ctx, in, run, body)
	fmt.Fprintln(log, note)
	return md + "\n" + note + "\n", res, err
}

// comment writes or edits the plan comment and says what it did, or why
// it did not comment.
func comment(ctx context.Context, in *Inputs, run *Workflow, body string) string {
	pr := run.PullRequest
	switch {
	case pr == nil || pr.Number == 0:
		return "Not a pull request: the plan is in this summary only."
	case pr.Fork:
		return fmt.Sprintf("Did not comment on #%d: it comes from a fork, and GitHub gives a fork's pull request a read-only token.", pr.Number)
	case in.Token == "":
		return fmt.Sprintf("Did not comment on #%d: the github-token input is empty.", pr.Number)
	}
	gh, err := deployments.NewGitHub(deployments.Config{Token: in.Token, APIURL: run.APIURL, Owner: run.Owner, Repo: run.Repo})
	if err != nil {
		return fmt.Sprintf("Did not comment on #%d: %v.", pr.Number, err)
	}
	id, created, err := gh.Comment(ctx, pr.Number, PlanMarker, body)
	switch {
	case errors.Is(err, deployments.ErrNoCommentPermission):
		return fmt.Sprintf("Did not comment on #%d: %v.", pr.Number, deployments.ErrNoCommentPermission)
	case err != nil:
		return fmt.Sprintf("Did not comment on #%d: %v.", pr.Number, err)
	case created:
		return fmt.Sprintf("The plan is in comment %d on #%d.", id, pr.Number)
	}
	return fmt.Sprintf("The plan comment %d on #%d is up to date.", id, pr.Number)
}

// runStatus compares each host with its last successful deployment in
// GitHub; each drifted instance is a warning annotation.
func runStatus(ctx context.Context, gha *githubactions.Action, in *Inputs, run *Workflow, req deploy.Request) (string, any, error) {
	gh, err := deployments.NewGitHub(deployments.Config{Token: in.Token, APIURL: run.APIURL, Owner: run.Owner, Repo: run.Repo})
	if err != nil {
		return "", nil, err
	}
	res, err := status.Run(ctx, req, fromGitHub(gh, in))
	if res == nil {
		return "", nil, err
	}
	for _, n := range res.Drifted() {
		gha.WithFieldsMap(map[string]string{"title": n + " drifted"}).Errorf("%s: %s", n, res.Instances[n].Reason)
	}
	return res.Markdown(), res, err
}

// replacingGoals are the goals whose success says what a host runs.
func replacingGoals() []string {
	var out []string
	for _, g := range goal.All() {
		if g.Replaces() {
			out = append(out, string(g))
		}
	}
	return out
}

// fromGitHub expects each instance to run what its last successful
// deployment in its environment (the environment input) recorded, or,
// without one, the last successful group deployment of its hive.nix
// environment (record-deployments per-environment).
func fromGitHub(gh *deployments.GitHub, in *Inputs) status.Expect {
	return func(ctx context.Context, s *deploy.Session) map[string]status.Expectation {
		out := map[string]status.Expectation{}
		for n, inst := range s.Inventory.Instances {
			env := in.Environment.Render(n, inst.Environment, inst.System)
			d, ok, err := gh.LastSuccessful(ctx, env, n, replacingGoals())
			if !ok && err == nil && inst.Environment != env { // recorded per environment group
				env = inst.Environment
				d, ok, err = gh.LastSuccessful(ctx, env, n, replacingGoals())
			}
			e := status.Expectation{Err: err}
			if ok {
				e.Path, e.Goal, e.Source = d.Paths[n], goal.Goal(d.Goal), fmt.Sprintf("deployment %d in %s", d.ID, env)
			}
			out[n] = e
		}
		return out
	}
}
