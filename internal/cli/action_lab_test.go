package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/githubfake"
	"github.com/nix-hive/nix-hive/internal/lab"
	"github.com/nix-hive/nix-hive/internal/labfleet"
	"github.com/nix-hive/nix-hive/internal/process"
)

// labAction runs the action against the example fleet on a lab.
type labAction struct {
	t         *testing.T
	lab       *lab.Lab
	workspace string
	fleet     *labfleet.Fleet
	token     string
	secrets   []string
	inputs    map[string]string
}

func newLabAction(t *testing.T) *labAction {
	l := lab.NewForTest(t, labfleet.Spec)
	workspace := t.TempDir()
	f, err := labfleet.Prepare(context.Background(), &process.Exec{}, l, "../../examples/fleet", workspace)
	if err != nil {
		t.Fatal(err)
	}
	read := func(path string) string {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	a := &labAction{t: t, lab: l, workspace: workspace, fleet: f, token: "ghs_e2eTokenThatMustNeverBeLogged0123"}
	a.inputs = map[string]string{
		"INPUT_HIVE":            "fleet",
		"INPUT_GITHUB-TOKEN":    a.token,
		"INPUT_SSH-PRIVATE-KEY": read(l.Key),
		"INPUT_SSH-KNOWN-HOSTS": read(l.KnownHosts),
		"INPUT_SIGNING-KEY":     read(f.SigningKey),
		"INPUT_NIX-CONFIG":      "connect-timeout = 5",
	}
	a.secrets = []string{a.token, a.inputs["INPUT_SSH-PRIVATE-KEY"], a.inputs["INPUT_SIGNING-KEY"]}
	return a
}

// run runs the action with extra inputs and variables, event as the
// event payload, against gh.
func (a *labAction) run(t *testing.T, gh *githubfake.Server, event string, edit map[string]string) *actionRun {
	t.Helper()
	return a.runContext(context.Background(), t, gh, event, edit, nil)
}

// runContext is run with a context and a tap on the action's output.
func (a *labAction) runContext(ctx context.Context, t *testing.T, gh *githubfake.Server, event string, edit map[string]string, tap io.Writer) *actionRun {
	t.Helper()
	vars := map[string]string{"GITHUB_API_URL": gh.URL()}
	for k, v := range a.inputs {
		vars[k] = v
	}
	for k, v := range edit {
		vars[k] = v
	}
	env := actionEnv(t, a.workspace, vars)
	if err := os.WriteFile(env["GITHUB_EVENT_PATH"], []byte(event), 0o644); err != nil {
		t.Fatal(err)
	}
	// The run gets a temporary directory of its own (short, for ssh's
	// sockets), so that key directories of tests running at the same time
	// (other packages, other checkouts) are not taken for this run's.
	tmp, err := os.MkdirTemp("", "nhk")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	t.Setenv("TMPDIR", tmp)
	r := runActionCmdContext(ctx, t, labfleet.Environ(), env, tap)
	if left, _ := filepath.Glob(filepath.Join(tmp, "nix-hive-keys-*")); len(left) > 0 {
		t.Errorf("the key directories %s are left behind", left)
	}
	r.checkSecrets(t, a.secrets...)
	return r
}

// edit changes a file of the fleet.
func (a *labAction) edit(name, old, new string) {
	a.t.Helper()
	path := filepath.Join(a.fleet.Dir, name)
	src, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(src), old) {
		a.t.Fatalf("edit %s: %v (or no %q in it)", name, err, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(src), old, new, 1)), 0o644); err != nil {
		a.t.Fatal(err)
	}
}

// results decodes the results output.
func (r *actionRun) results(t *testing.T) map[string]struct{ System, Path, Environment, Result, Error string } {
	t.Helper()
	var res struct {
		Instances map[string]struct{ System, Path, Environment, Result, Error string } `json:"instances"`
	}
	if err := json.Unmarshal([]byte(r.outputs["results"]), &res); err != nil {
		t.Fatalf("results output %q: %v", r.outputs["results"], err)
	}
	return res.Instances
}

// ids decodes the deployments output.
func (r *actionRun) ids(t *testing.T) map[string]int64 {
	t.Helper()
	var ids map[string]int64
	if err := json.Unmarshal([]byte(r.outputs["deployments"]), &ids); err != nil {
		t.Fatalf("deployments output %q: %v", r.outputs["deployments"], err)
	}
	return ids
}

// checkDeployment checks one recorded deployment and its statuses: created
// for the commit in the instance's environment (not a production one: its
// name is not "production"), at most one in_progress with its phase, a
// final state last, every status linking logURL: at most three writes.
func checkDeployment(t *testing.T, gh *githubfake.Server, id int64, instance, env, final, logURL string) githubfake.Deployment {
	t.Helper()
	var d githubfake.Deployment
	for _, x := range gh.Deployments() {
		if x.ID == id {
			d = x
		}
	}
	sha := "0123456789abcdef0123456789abcdef01234567"
	if d.ID == 0 || d.Ref != sha || d.SHA != sha || d.Task != "deploy" || d.Environment != env ||
		d.ProductionEnvironment != (env == "production") || d.TransientEnvironment {
		t.Errorf("%s: deployment %+v, want ref %s in %s", instance, d, sha, env)
	}
	var payload struct{ Instance, System, Goal string }
	if err := json.Unmarshal(d.Payload, &payload); err != nil || payload.Instance != instance || payload.Goal == "" || payload.System == "" {
		t.Errorf("%s: payload %s (%v)", instance, d.Payload, err)
	}
	sts := gh.Statuses(id)
	var states []string
	for _, st := range sts {
		states = append(states, st.State)
		if st.LogURL != logURL {
			t.Errorf("%s: status %s links %q, want %q", instance, st.State, st.LogURL, logURL)
		}
		if len([]rune(st.Description)) > 140 || st.Description == "" {
			t.Errorf("%s: status %s description %q", instance, st.State, st.Description)
		}
		if instance == "web-1" && st.EnvironmentURL != "http://web-1.example.org" {
			t.Errorf("web-1: status %s environment_url %q", st.State, st.EnvironmentURL)
		}
		if st.State == "in_progress" && !slices.ContainsFunc([]string{"building", "pushing", "copying", "activating"}, func(p string) bool {
			return strings.HasPrefix(st.Description, p)
		}) {
			t.Errorf("%s: in_progress without its phase: %q", instance, st.Description)
		}
	}
	if len(states) < 1 || len(states) > 2 || states[len(states)-1] != final || (len(states) == 2 && states[0] != "in_progress") {
		t.Errorf("%s: states %v, want [in_progress] %s", instance, states, final)
	}
	replaces := payload.Goal == "switch" || payload.Goal == "boot" || payload.Goal == "test"
	if last := sts[len(sts)-1]; final == "success" && last.AutoInactive != replaces {
		t.Errorf("%s: goal %s ended in success with auto_inactive %t, want %t", instance, payload.Goal, last.AutoInactive, replaces)
	}
	return d
}

// environmentOf is the GitHub environment of an example instance with the
// default template.
func environmentOf(instance string) string {
	if instance == "db-1" {
		return "staging/db-1"
	}
	return "production/" + instance
}

// TestActionOnLab runs `nix-hive action` as GitHub's runner runs the
// container, on the example fleet and a fake GitHub: a push deploys every
// instance, a workflow_dispatch some, then GitHub misbehaves, the token
// lacks the permission, and hosts fail.
func TestActionOnLab(t *testing.T) {
	a := newLabAction(t)
	jobURL := "https://github.example.com/acme/fleet/actions/runs/4242/job/77"
	gh := githubfake.New(t, githubfake.WithToken(a.token),
		githubfake.WithJobs(4242, 1, githubfake.Job{Name: "build", Status: "completed", RunnerName: "GitHub Actions 3"},
			githubfake.Job{ID: 77, Name: "deploy", RunnerName: "GitHub Actions 7", HTMLURL: jobURL}))
	pushIDs := map[string]int64{}

	t.Run("push deploys every instance", func(t *testing.T) {
		r := a.run(t, gh, `{"ref":"refs/heads/main","sender":{"login":"alice"},"head_commit":{"message":"Deploy the fleet\n\nAll of it."}}`, nil)
		if r.err != nil {
			t.Fatalf("action failed: %v", r.err)
		}
		results, ids := r.results(t), r.ids(t)
		if len(results) != len(labfleet.Instances) || len(ids) != len(labfleet.Instances) || len(gh.Deployments()) != len(labfleet.Instances) {
			t.Fatalf("results %v, ids %v, %d deployments", results, ids, len(gh.Deployments()))
		}
		for _, n := range labfleet.Instances {
			if o := results[n]; o.Result != "activated" || o.Environment != strings.Split(environmentOf(n), "/")[0] {
				t.Errorf("%s: %+v", n, o)
			}
			d := checkDeployment(t, gh, ids[n], n, environmentOf(n), "success", jobURL)
			if !strings.Contains(d.Description, "push by alice: Deploy the fleet") {
				t.Errorf("%s: description %q", n, d.Description)
			}
			var payload struct{ Instance, System, Path, Goal string }
			if err := json.Unmarshal(d.Payload, &payload); err != nil || payload.Instance != n || payload.Path != results[n].Path || payload.Goal != "switch" {
				t.Errorf("%s: payload %s, want its instance, system path %s and goal", n, d.Payload, results[n].Path)
			}
			sts := gh.Statuses(ids[n])
			if last := sts[len(sts)-1]; last.Description != "running: "+results[n].Path {
				t.Errorf("%s: final status %q, want the store path", n, last.Description)
			}
			envURL := "https://github.example.com/acme/fleet/deployments/" + strings.ReplaceAll(environmentOf(n), "/", "%2F")
			if row := fmt.Sprintf("| %s | %s | ✅ activated |", n, results[n].System); !strings.Contains(r.summary, row) ||
				!strings.Contains(r.summary, fmt.Sprintf("(%s) #%d |", envURL, ids[n])) {
				t.Errorf("summary lacks %s's row %q with a link to %s:\n%s", n, row, envURL, r.summary)
			}
			pushIDs[n] = ids[n]
		}
		create := gh.Requests()[slices.IndexFunc(gh.Requests(), func(q githubfake.Request) bool { return q.Route == githubfake.CreateDeployment })]
		var body struct {
			AutoMerge        *bool     `json:"auto_merge"`
			RequiredContexts *[]string `json:"required_contexts"`
		}
		if err := json.Unmarshal(create.Body, &body); err != nil || body.AutoMerge == nil || *body.AutoMerge ||
			body.RequiredContexts == nil || len(*body.RequiredContexts) != 0 {
			t.Errorf("create body %s: want auto_merge false and required_contexts []", create.Body)
		}
		for _, group := range []string{"::group::nix-hive: inputs", "::group::nix-hive: switch", "::group::nix-hive: record deployments in GitHub"} {
			if !strings.Contains(r.stdout.String(), group+"\n") {
				t.Errorf("log lacks %q", group)
			}
		}
		if strings.Contains(r.stdout.String(), "::warning") {
			t.Errorf("warnings in a clean run")
		}
	})

	t.Run("a second run with nothing changed writes nothing to GitHub", func(t *testing.T) {
		if len(pushIDs) == 0 {
			t.Skip("the push run failed")
		}
		before := len(gh.Requests())
		r := a.run(t, gh, `{"ref":"refs/heads/main","sender":{"login":"bob"},"inputs":{"targets":"","goal":"switch"}}`,
			map[string]string{"GITHUB_EVENT_NAME": "workflow_dispatch", "GITHUB_RUN_ID": "4243", "GITHUB_RUN_ATTEMPT": "2"})
		if r.err != nil {
			t.Fatalf("action failed: %v", r.err)
		}
		for n, o := range r.results(t) {
			if o.Result != "unchanged" {
				t.Errorf("%s: %s, want unchanged", n, o.Result)
			}
		}
		// Building (nix-store --realise), pushing and copying (nix copy)
		// are the only phases that run them; no instance entered one.
		for _, phase := range []string{": building", ": storing", ": copying", ": activating"} {
			if strings.Contains(r.stdout.String(), phase) {
				t.Errorf("a run where nothing changed logs %q", phase)
			}
		}
		for _, q := range gh.Requests()[before:] {
			if q.Method != http.MethodGet {
				t.Errorf("a run where nothing changed wrote to GitHub: %s %s", q.Method, q.Path)
			}
		}
		t.Logf("%d reads to GitHub", len(gh.Requests())-before)
		if r.outputs["deployments"] != "{}" {
			t.Errorf("deployments output %q, want none", r.outputs["deployments"])
		}
		// Each unchanged row links the deployment that put its system there.
		for n, id := range pushIDs {
			envURL := "https://github.example.com/acme/fleet/deployments/" + strings.ReplaceAll(environmentOf(n), "/", "%2F")
			if !strings.Contains(r.summary, "✅ unchanged |") || !strings.Contains(r.summary, fmt.Sprintf("(%s) #%d |", envURL, id)) {
				t.Errorf("summary lacks %s's link to deployment %d:\n%s", n, id, r.summary)
			}
		}
	})

	t.Run("a run that changes every instance makes at most 3 writes each and retires the previous deployments", func(t *testing.T) {
		if len(pushIDs) == 0 {
			t.Skip("the push run failed")
		}
		for file, motd := range map[string]string{"web.nix": `motd = "`, "db.nix": `motd = "`, "edge.nix": `motd = builtins`} {
			a.edit("systems/"+file, motd, strings.Replace(motd, "motd = ", `motd = "release 2: " + `, 1))
		}
		before := len(gh.Requests())
		r := a.run(t, gh, `{}`, map[string]string{"GITHUB_RUN_ID": "4244"})
		if r.err != nil {
			t.Fatalf("action failed: %v", r.err)
		}
		writes := 0
		for _, q := range gh.Requests()[before:] {
			if q.Method != http.MethodGet {
				writes++
			}
		}
		t.Logf("%d writes and %d reads for %d changed instances", writes, len(gh.Requests())-before-writes, len(labfleet.Instances))
		if writes > 3*len(labfleet.Instances) {
			t.Errorf("%d writes for %d instances, more than 3 each", writes, len(labfleet.Instances))
		}
		ids := r.ids(t)
		for _, n := range labfleet.Instances {
			if o := r.results(t)[n]; o.Result != "activated" {
				t.Errorf("%s: %s, want activated", n, o.Result)
			}
			checkDeployment(t, gh, ids[n], n, environmentOf(n), "success", "https://github.example.com/acme/fleet/actions/runs/4244/attempts/1")
			// GitHub's auto_inactive retired the push's deployment.
			if sts := gh.Statuses(pushIDs[n]); sts[len(sts)-1].State != "inactive" {
				t.Errorf("%s's push deployment: %s, want inactive", n, sts[len(sts)-1].State)
			}
		}
	})

	t.Run("rate limits and server errors delay but do not stop it", func(t *testing.T) {
		flaky := githubfake.New(t, githubfake.WithToken(a.token))
		retryAfter := githubfake.Fault{Status: http.StatusTooManyRequests, Message: "Too Many Requests", RetryAfter: time.Second}
		flaky.InjectFunc(githubfake.CreateDeployment, func(call int, _ *http.Request) *githubfake.Fault {
			return map[int]*githubfake.Fault{1: addr(githubfake.SecondaryRateLimit(time.Second)), 3: &retryAfter, 5: addr(githubfake.ServerError(502))}[call]
		})
		flaky.InjectFunc(githubfake.CreateStatus, func(call int, _ *http.Request) *githubfake.Fault {
			return map[int]*githubfake.Fault{2: addr(githubfake.SecondaryRateLimit(time.Second)), 4: &retryAfter, 7: addr(githubfake.ServerError(500)), 9: addr(githubfake.ServerError(503))}[call]
		})
		a.edit("systems/web.nix", "deployed by nix-hive", "version 2")
		start := time.Now()
		// Unchanged instances recorded too, for enough requests to hit every fault.
		r := a.run(t, flaky, `{}`, map[string]string{"INPUT_RECORD-UNCHANGED": "true"})
		t.Logf("the run took %s", time.Since(start))
		if r.err != nil {
			t.Fatalf("action failed: %v", r.err)
		}
		results, ids := r.results(t), r.ids(t)
		for _, n := range labfleet.Instances {
			want := "unchanged"
			if strings.HasPrefix(n, "web-") {
				want = "activated"
			}
			if results[n].Result != want {
				t.Errorf("%s: %s, want %s", n, results[n].Result, want)
			}
			checkDeployment(t, flaky, ids[n], n, environmentOf(n), "success", "https://github.example.com/acme/fleet/actions/runs/4242/attempts/1")
		}
		if n := len(flaky.Deployments()); n != len(labfleet.Instances) {
			t.Errorf("%d deployments, want one per instance", n)
		}
		refused := 0
		for _, q := range flaky.Requests() {
			if q.Status == http.StatusForbidden || q.Status == http.StatusTooManyRequests || q.Status >= 500 {
				refused++
			}
		}
		if refused != 7 {
			t.Errorf("%d refused requests, want the 7 injected", refused)
		}
		if strings.Contains(r.stdout.String(), "::warning") {
			t.Errorf("warnings although every request got through in the end")
		}
	})

	t.Run("a token without deployments write", func(t *testing.T) {
		readOnly := githubfake.New(t, githubfake.WithToken(a.token), githubfake.WithoutDeploymentsWrite())
		r := a.run(t, readOnly, `{}`, map[string]string{"INPUT_TARGETS": "web-*", "INPUT_RECORD-UNCHANGED": "true"})
		if r.err != nil {
			t.Fatalf("action failed: %v", r.err)
		}
		if results := r.results(t); results["web-1"].Result != "unchanged" || results["web-2"].Result != "unchanged" {
			t.Errorf("results %v", results)
		}
		var warnings []string
		for _, line := range strings.Split(r.stdout.String(), "\n") {
			if strings.HasPrefix(line, "::warning") {
				warnings = append(warnings, line)
			}
		}
		if len(warnings) != 1 || !strings.Contains(warnings[0], "permissions: deployments: write") {
			t.Errorf("warnings %q, want one naming the permission", warnings)
		}
		if n := readOnly.Calls(githubfake.CreateStatus); n != 0 {
			t.Errorf("%d status requests after the refusal", n)
		}
		if r.outputs["deployments"] != "{}" || !strings.Contains(r.summary, "production/web-1 (not recorded)") {
			t.Errorf("deployments output %q, summary:\n%s", r.outputs["deployments"], r.summary)
		}
	})

	t.Run("failing hosts", func(t *testing.T) {
		a.edit("systems/db.nix", "motd =", "failActivation = true;\n  motd =")
		a.edit("systems/edge.nix", "motd =", "motd = throw \"the edge configuration is broken\";\n  unused =")
		failing := githubfake.New(t, githubfake.WithToken(a.token))
		r := a.run(t, failing, `{}`, map[string]string{"INPUT_TARGETS": "db-1,eu-1"})
		if !errors.Is(r.err, engine.ErrFailed) || ExitCode(r.err) != 1 {
			t.Fatalf("error %v, want a failed deployment (exit code 1)", r.err)
		}
		results, ids := r.results(t), r.ids(t)
		if results["db-1"].Result != "rolled-back" || results["eu-1"].Result != "failed" {
			t.Errorf("results %v", results)
		}
		runURL := "https://github.example.com/acme/fleet/actions/runs/4242/attempts/1"
		checkDeployment(t, failing, ids["db-1"], "db-1", "staging/db-1", "failure", runURL)
		checkDeployment(t, failing, ids["eu-1"], "eu-1", "production/eu-1", "error", runURL)
		if sts := failing.Statuses(ids["db-1"]); !strings.HasPrefix(sts[len(sts)-1].Description, "rolled back: ") {
			t.Errorf("db-1's final status %q", sts[len(sts)-1].Description)
		}
		for _, want := range []string{"| db-1 | db | ❌ rolled-back |", "| eu-1 | edge | ❌ failed |", "<details><summary>eu-1: failed</summary>"} {
			if !strings.Contains(r.summary, want) {
				t.Errorf("summary lacks %q:\n%s", want, r.summary)
			}
		}
		if !hasLine(r.stdout.String(), "::error title=db-1 rolled-back::", "switch-to-configuration") {
			t.Errorf("no error annotation for db-1")
		}
	})

	t.Run("goals that stop before activation end in success too", func(t *testing.T) {
		a.edit("systems/web.nix", "version 2", "version 3")
		for _, goal := range []string{"build", "push"} {
			gh := githubfake.New(t, githubfake.WithToken(a.token))
			r := a.run(t, gh, `{}`, map[string]string{"INPUT_TARGETS": "web-1", "INPUT_GOAL": goal})
			if r.err != nil {
				t.Fatalf("goal %s: %v", goal, r.err)
			}
			want := map[string]string{"build": "built", "push": "pushed"}[goal]
			if got := r.results(t)["web-1"].Result; got != want {
				t.Errorf("goal %s: result %q, want %q", goal, got, want)
			}
			id := r.ids(t)["web-1"]
			// checkDeployment also checks that success leaves auto_inactive
			// off: these goals do not replace what the host runs.
			checkDeployment(t, gh, id, "web-1", "production/web-1", "success", "https://github.example.com/acme/fleet/actions/runs/4242/attempts/1")
		}
	})

	t.Run("an unknown host key stops the run and names the input", func(t *testing.T) {
		known, err := a.lab.KnownHostsWithout("eu-2")
		if err != nil {
			t.Fatal(err)
		}
		gh := githubfake.New(t, githubfake.WithToken(a.token))
		r := a.run(t, gh, `{}`, map[string]string{"INPUT_SSH-KNOWN-HOSTS": known})
		if r.err == nil || !strings.Contains(r.err.Error(), "eu-2 ("+a.lab.Hosts["eu-2"].Addr+"): host key is not known") ||
			!strings.Contains(r.err.Error(), "add its key to the ssh-known-hosts input") {
			t.Fatalf("error = %v", r.err)
		}
		if n := len(gh.Deployments()); n != 0 {
			t.Errorf("%d deployments recorded for a run that touched no host", n)
		}
	})

	t.Run("a cancelled run leaves no deployment in progress", func(t *testing.T) {
		a.edit("systems/web.nix", "version 3", "version 4")
		gh := githubfake.New(t, githubfake.WithToken(a.token))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		r := a.runContext(ctx, t, gh, `{}`, map[string]string{"INPUT_TARGETS": "web-*", "INPUT_PARALLEL": "1"},
			&cancelWhen{text: "web-1: activating", cancel: cancel})
		if code := ExitCode(r.err); code != 130 {
			t.Fatalf("exit code %d (%v), want 130", code, r.err)
		}
		results, ids := r.results(t), r.ids(t)
		if results["web-1"].Result != "activated" || results["web-2"].Result != "skipped" {
			t.Errorf("results %v, want web-1 activated (it was activating) and web-2 skipped", results)
		}
		runURL := "https://github.example.com/acme/fleet/actions/runs/4242/attempts/1"
		checkDeployment(t, gh, ids["web-1"], "web-1", "production/web-1", "success", runURL)
		checkDeployment(t, gh, ids["web-2"], "web-2", "production/web-2", "error", runURL)
		if sts := gh.Statuses(ids["web-2"]); !strings.Contains(sts[len(sts)-1].Description, "cancelled") {
			t.Errorf("web-2's final status %q does not say cancelled", sts[len(sts)-1].Description)
		}
	})
}

func addr[T any](v T) *T { return &v }

// cancelWhen is an output tap that cancels the run once text appears.
type cancelWhen struct {
	mu     sync.Mutex
	seen   strings.Builder
	text   string
	cancel context.CancelFunc
}

func (c *cancelWhen) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen.Write(p)
	if strings.Contains(c.seen.String(), c.text) {
		c.cancel()
	}
	return len(p), nil
}
