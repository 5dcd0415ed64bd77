// Package action is nix-hive's GitHub Action edge: it reads and checks the
// action's inputs and the run's GITHUB_* variables once, masks the secrets,
// writes the keys to private files, and in the end writes the outputs and
// the step summary. Package action/record turns each instance's progress
// into GitHub deployment statuses.
package action

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/nix-hive/nix-hive/internal/deploy"
	"github.com/nix-hive/nix-hive/internal/deployments"
	"github.com/nix-hive/nix-hive/internal/deployments/record"
	"github.com/nix-hive/nix-hive/internal/goal"
	"github.com/nix-hive/nix-hive/internal/keyfile"
	"github.com/nix-hive/nix-hive/internal/selector"
)

// Inputs are the action's inputs, checked, with their defaults set.
type Inputs struct {
	// Hive is the absolute path of the hive.nix or its directory, or of a
	// flake's directory (with #ATTR when the input names an output).
	Hive string
	// Targets is the targets input, an --on selector; "" selects every
	// instance.
	Targets string
	// Selector is Targets, parsed.
	Selector selector.Selector
	// Goal is how far to deploy.
	Goal goal.Goal
	// Token authenticates GitHub API requests.
	Token string
	// SSHKey is the private key text; "" if not given.
	SSHKey string
	// KnownHosts is a known_hosts text; "" if not given.
	KnownHosts string
	// SigningKey is a nix secret key ("name:base64"); "" if not given.
	SigningKey string
	// Environment renders each instance's GitHub environment name.
	Environment Template
	// Parallel is how many instances are copied and activated at once.
	Parallel int
	// DryRun prints the commands and changes nothing.
	DryRun bool
	// Record says whether deployments are recorded in GitHub: the
	// record-deployments input is not none, and never in a dry run, which
	// deploys nothing.
	Record bool
	// RecordMode is the record-deployments input: auto (true is an
	// alias), per-instance, per-environment or none (false).
	RecordMode record.Mode
	// RecordUnchanged records a deployment for unchanged instances too.
	RecordUnchanged bool
	// NixConfig holds extra nix.conf lines for every nix command.
	NixConfig string
	// Rollout holds the waves, batch, rollback-wave and reboot inputs.
	Rollout Rollout
	// Command is what the action does: deploy, plan, status or rollback.
	Command Command
	// Rollback is the rollback input: "" (no rollback), previous, or a
	// deployment id.
	Rollback string
}

// Workflow is the workflow run the action runs in, from the GITHUB_* variables.
type Workflow struct {
	// Owner and Repo name the repository (GITHUB_REPOSITORY).
	Owner, Repo string
	// SHA is the commit deployed (GITHUB_SHA).
	SHA string
	// ServerURL is GitHub's web root (GITHUB_SERVER_URL), APIURL its REST
	// API root (GITHUB_API_URL).
	ServerURL, APIURL string
	// RunID and RunAttempt identify the run; 0 if unknown.
	RunID      int64
	RunAttempt int
	// Job is the job's id in the workflow (GITHUB_JOB), RunnerName the
	// runner's name (RUNNER_NAME): they find the job's log page.
	Job, RunnerName string
	// Trigger says who and what started the run.
	Trigger Trigger
	// PullRequest is the pull request of a pull_request run; nil otherwise.
	PullRequest *PullRequest
}

// Parse reads every input and the run's variables and checks them, before
// anything else happens. The error joins one error per problem, each naming
// the input or variable; it never quotes a secret.
func Parse(a *githubactions.Action) (*Inputs, *Workflow, error) {
	var errs []error
	bad := func(input string, err error) { errs = append(errs, fmt.Errorf("input %s: %w", input, err)) }
	get := func(name, def string) string {
		if v := a.GetInput(name); v != "" {
			return v
		}
		return def
	}
	in := &Inputs{
		Targets:    get("targets", ""),
		Token:      get("github-token", ""),
		SSHKey:     normalizeLines(get("ssh-private-key", "")),
		KnownHosts: normalizeLines(get("ssh-known-hosts", "")),
		SigningKey: get("signing-key", ""),
		NixConfig:  normalizeLines(get("nix-config", "")),
	}
	run, err := parseRun(a)
	if err != nil {
		errs = append(errs, err)
	}
	if err := in.parseCommand(get("goal", ""), get("rollback", ""), run != nil && run.PullRequest != nil); err != nil {
		errs = append(errs, err)
	}
	in.parseSettings(get, a.Getenv("GITHUB_WORKSPACE"), bad)
	in.parseRollout(get, bad)
	in.checkCredentials(bad)
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	return in, run, nil
}

// parseSettings parses the inputs that say what to deploy and how.
func (in *Inputs) parseSettings(get func(name, def string) string, workspace string, bad func(string, error)) {
	var err error
	if in.Parallel, err = deploy.ParseParallel(get("parallel", "10")); err != nil {
		bad("parallel", err)
	}
	if in.DryRun, err = parseBool(get("dry-run", "false")); err != nil {
		bad("dry-run", err)
	}
	if in.RecordMode, err = parseRecordMode(get("record-deployments", string(record.Auto))); err != nil {
		bad("record-deployments", err)
	}
	if in.RecordUnchanged, err = parseBool(get("record-unchanged", "false")); err != nil {
		bad("record-unchanged", err)
	}
	in.Record = in.RecordMode != record.None && !in.DryRun && in.Command != Plan && in.Command != Status
	if in.Environment, err = ParseTemplate(get("environment", DefaultEnvironment)); err != nil {
		bad("environment", err)
	}
	if in.Selector, err = selector.Parse(in.Targets); err != nil {
		bad("targets", err)
	}
	if in.Hive, err = hivePath(get("hive", "hive.nix"), workspace); err != nil {
		bad("hive", err)
	}
}

// checkCredentials checks the token, the keys and the nix config against
// what the settings need; no error quotes a secret.
func (in *Inputs) checkCredentials(bad func(string, error)) {
	if in.DryRun && in.Command != Deploy {
		bad("dry-run", errors.New("is for deployments; goal plan and status change nothing, and a rollback has no dry run"))
	}
	if in.Command == Status && in.Token == "" {
		bad("github-token", errors.New("is empty, and goal status reads the deployments recorded in GitHub: give a token with `permissions: deployments: read`"))
	}
	if in.Record && in.Token == "" {
		bad("github-token", errors.New("is empty, and recording deployments needs a token with `permissions: deployments: write` "+
			"(the default, ${{ github.token }}, has it when the workflow grants it); or set record-deployments: none"))
	}
	switch {
	case in.SSHKey != "":
		if err := keyfile.CheckSSHPrivateKeyData([]byte(in.SSHKey)); err != nil {
			bad("ssh-private-key", err)
		}
	case in.Goal != goal.Build && !in.DryRun && in.Command != Plan:
		bad("ssh-private-key", fmt.Errorf("is empty, and goal %s logs in to the hosts: give the private key (a secret) whose public half root on each host accepts", in.Goal))
	}
	if err := checkKnownHosts(in.KnownHosts); err != nil {
		bad("ssh-known-hosts", err)
	}
	if in.SigningKey != "" {
		if err := keyfile.CheckNixSecretKeyData([]byte(in.SigningKey)); err != nil {
			bad("signing-key", err)
		}
	}
	if err := checkNixConfig(in.NixConfig); err != nil {
		bad("nix-config", err)
	}
}

// parseBool accepts the YAML 1.2 booleans, as actions/toolkit's
// getBooleanInput does.
func parseBool(s string) (bool, error) {
	switch s {
	case "true", "True", "TRUE":
		return true, nil
	case "false", "False", "FALSE":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean; use true or false", s)
}

// parseRecordMode reads the record-deployments input; true and false, its
// values before the modes existed, are aliases of auto and none.
func parseRecordMode(s string) (record.Mode, error) {
	switch m := record.Mode(strings.ToLower(s)); m {
	case record.Auto, record.PerInstance, record.PerEnvironment, record.None:
		return m, nil
	}
	if b, err := parseBool(s); err == nil {
		if b {
			return record.Auto, nil
		}
		return record.None, nil
	}
	return "", fmt.Errorf("%q is not auto, per-instance, per-environment or none (true and false mean auto and none)", s)
}

// hivePath resolves the hive input against the workspace and checks that it
// exists. A flake reference DIR#ATTR keeps its #ATTR.
func hivePath(p, workspace string) (string, error) {
	p, attr, isFlakeRef := strings.Cut(p, "#")
	if !filepath.IsAbs(p) && workspace != "" {
		p = filepath.Join(workspace, p)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(abs); err != nil {
		return "", fmt.Errorf("%s not found in the workspace; check the repository out first (actions/checkout) or set hive to the deployment's hive.nix, or to its flake's directory", abs)
	}
	if isFlakeRef {
		abs += "#" + attr
	}
	return abs, nil
}

// normalizeLines turns CRLF line ends (a secret pasted on Windows) into LF.
func normalizeLines(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

var (
	repository = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)
	commit     = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)
)

// parseRun reads the GITHUB_* variables the runner sets.
func parseRun(a *githubactions.Action) (*Workflow, error) {
	var errs []error
	gh, err := a.Context()
	if gh == nil {
		return nil, fmt.Errorf("read the event (GITHUB_EVENT_PATH): %w", err)
	}
	if err != nil {
		errs = append(errs, fmt.Errorf("read the GITHUB_* variables: %w", err))
	}
	run := &Workflow{
		SHA: gh.SHA, ServerURL: strings.TrimSuffix(gh.ServerURL, "/"), APIURL: gh.APIURL,
		RunID: gh.RunID, RunAttempt: int(gh.RunAttempt),
		Job: gh.Job, RunnerName: a.Getenv("RUNNER_NAME"),
		Trigger: triggerOf(gh), PullRequest: pullRequestOf(gh),
	}
	if !repository.MatchString(gh.Repository) {
		errs = append(errs, fmt.Errorf("GITHUB_REPOSITORY %q is not OWNER/REPO; nix-hive action runs in GitHub Actions, which sets it", gh.Repository))
	}
	run.Owner, run.Repo = gh.Repo()
	if !commit.MatchString(gh.SHA) {
		errs = append(errs, fmt.Errorf("GITHUB_SHA %q is not a commit id; nix-hive action runs in GitHub Actions, which sets it", gh.SHA))
	}
	for name, u := range map[string]string{"GITHUB_SERVER_URL": run.ServerURL, "GITHUB_API_URL": run.APIURL} {
		if err := deployments.CheckURL(u); err != nil {
			errs = append(errs, fmt.Errorf("%s %w", name, err))
		}
	}
	return run, errors.Join(errs...)
}

// URL is the run's page (of this attempt, when known).
func (r *Workflow) URL() string {
	u := fmt.Sprintf("%s/%s/%s/actions/runs/%d", r.ServerURL, r.Owner, r.Repo, r.RunID)
	if r.RunAttempt > 0 {
		u += fmt.Sprintf("/attempts/%d", r.RunAttempt)
	}
	return u
}

// EnvironmentURL is the page listing an environment's deployments.
func (r *Workflow) EnvironmentURL(environment string) string {
	return fmt.Sprintf("%s/%s/%s/deployments/%s", r.ServerURL, r.Owner, r.Repo, url.PathEscape(environment))
}
