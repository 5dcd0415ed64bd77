package action

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/deployments"
	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/flake"
	"github.com/nix-hive/nix-hive/internal/goal"
)

func TestSummaryMarkdown(t *testing.T) {
	run := &Workflow{ServerURL: "https://github.com", Owner: "acme", Repo: "fleet", SHA: testSHA,
		Trigger: Trigger{Event: "push", Actor: "alice", Message: "Use | pipes <b>"}}
	report := &engine.Report{Instances: map[string]*engine.Outcome{
		"web-1": {System: "web", Result: engine.Activated, Seconds: 2.54, RebootRequired: true, Warning: "switch-to-configuration switch exited 4"},
		"db-1":  {System: "db", Result: engine.RolledBack, Seconds: 75, Error: "activate switch on db-1: <failed>\n  tail"},
		"eu-1":  {System: "edge", Result: engine.Skipped, Error: "not started: context canceled"},
		"web-2": {System: "web", Result: engine.Unchanged},
	}}
	s := Summary{
		Inputs: &Inputs{Goal: goal.Switch}, Workflow: run, Report: report,
		Environments: map[string]string{"web-1": "production/web-1", "db-1": "staging/db-1", "eu-1": "production/eu-1"},
		IDs:          map[string]int64{"web-1": 12, "db-1": 13},
		// web-2 is unchanged: it links the deployment that put its system there.
		Links:     map[string]deployments.Found{"web-2": {ID: 7, Environment: "production/web-2"}},
		Recording: "recording a deployment for each changed instance in GitHub: 2 deployments, at most 6 writes",
	}
	s.Environments["web-2"] = "production/web-2"
	md := s.Markdown()
	for _, want := range []string{
		"## nix-hive switch\n",
		"`acme/fleet` at `0123456`, push by alice: Use \\| pipes &lt;b&gt;: 2 of 4 instances succeeded.",
		"GitHub: recording a deployment for each changed instance in GitHub: 2 deployments, at most 6 writes.\n",
		"| web-2 | web | ✅ unchanged | 0.0 s | [production/web-2](https://github.com/acme/fleet/deployments/production%2Fweb-2) #7 |\n",
		"| Instance | System | Result | Duration | Deployment |\n| --- | --- | --- | --- | --- |\n",
		"| db-1 | db | ❌ rolled-back | 1m15s | [staging/db-1](https://github.com/acme/fleet/deployments/staging%2Fdb-1) #13 |\n",
		"| eu-1 | edge | ⏭️ skipped | 0.0 s | production/eu-1 (not recorded) |\n",
		"| web-1 | web | ✅ activated, reboot required | 2.5 s | [production/web-1](https://github.com/acme/fleet/deployments/production%2Fweb-1) #12 |\n",
		"<details><summary>db-1: rolled-back</summary>\n\n<pre>activate switch on db-1: &lt;failed&gt;\n  tail</pre>\n</details>",
		"<details><summary>web-1: activated</summary>\n\n<pre>warning: switch-to-configuration switch exited 4</pre>\n</details>",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	if strings.Index(md, "| db-1") > strings.Index(md, "| web-1") {
		t.Error("rows are not sorted by instance")
	}

	dry := Summary{Inputs: &Inputs{Goal: goal.Build, DryRun: true}, Workflow: run, Report: &engine.Report{}}
	if md := dry.Markdown(); !strings.Contains(md, "**Dry run:**") {
		t.Errorf("dry-run summary:\n%s", md)
	}
	early := Summary{Inputs: &Inputs{Goal: goal.Switch}, Workflow: run, Err: errors.New("hive.nix: syntax error")}
	if md := early.Markdown(); !strings.Contains(md, "stopped before deploying anything:\n\n<pre>hive.nix: syntax error</pre>") || strings.Contains(md, "| Instance") {
		t.Errorf("summary of a run that never deployed:\n%s", md)
	}
	bad := Summary{Err: errors.New("input goal: unknown goal")}
	if md := bad.Markdown(); !strings.Contains(md, "nix-hive did not start:\n\n<pre>input goal: unknown goal</pre>") {
		t.Errorf("summary of bad inputs:\n%s", md)
	}
}

// TestSummaryNamesTheFlake: a run from a flake names the flake's locked
// revision and narHash; a run from a hive.nix does not mention a flake.
func TestSummaryNamesTheFlake(t *testing.T) {
	run := &Workflow{ServerURL: "https://github.com", Owner: "acme", Repo: "fleet", SHA: testSHA}
	ref := flake.Ref{Dir: "/src/fleet", Attr: "nixHive"}
	tests := []struct {
		name  string
		flake *flake.Locked
		want  string
	}{
		{"hive.nix", nil, ""},
		{"git flake", &flake.Locked{Ref: ref, URL: "git+file:///src/fleet?rev=0123abc", Rev: "0123abc", NarHash: "sha256-AAAA"},
			"Systems from the flake `/src/fleet#nixHive` (locked `git+file:///src/fleet?rev=0123abc`), revision `0123abc`, narHash `sha256-AAAA`.\n\n"},
		{"path flake", &flake.Locked{Ref: ref, URL: "path:/src/fleet?narHash=sha256-AAAA", NarHash: "sha256-AAAA"},
			"Systems from the flake `/src/fleet#nixHive` (locked `path:/src/fleet?narHash=sha256-AAAA`), narHash `sha256-AAAA`.\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md := Summary{Inputs: &Inputs{Goal: goal.Switch}, Workflow: run, Report: &engine.Report{}, Flake: tt.flake}.Markdown()
			if tt.want == "" && strings.Contains(md, "flake") || !strings.Contains(md, tt.want) {
				t.Errorf("summary:\n%s\nwant it to say %q", md, tt.want)
			}
		})
	}
}

func TestSummaryLeftOut(t *testing.T) {
	run := &Workflow{ServerURL: "https://github.com", Owner: "acme", Repo: "fleet", SHA: testSHA, Trigger: Trigger{Event: "push"}}
	warnings := []string{
		`discover.prod: machine "i-01": tag nix-hive-system: missing; tag the machine (defined: web); not deployed`,
		`discover.prod: machine "i-02": tag Name: "web\nProxyCommand <evil>" is not an instance name; not deployed`,
	}
	tests := []struct {
		name    string
		summary Summary
	}{
		{"after a deployment", Summary{Inputs: &Inputs{Goal: goal.Switch}, Workflow: run, Warnings: warnings,
			Report: &engine.Report{Instances: map[string]*engine.Outcome{"web-1": {System: "web", Result: engine.Activated}}}}},
		{"when the run stopped early", Summary{Inputs: &Inputs{Goal: goal.Switch}, Workflow: run, Warnings: warnings,
			Err: errors.New("no host was touched: host key")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md := tt.summary.Markdown()
			for _, want := range []string{
				"**2 machines found by `discover` were left out** and not deployed:\n\n<pre>discover.prod: machine &#34;i-01&#34;: tag nix-hive-system: missing;",
				"not deployed\ndiscover.prod: machine &#34;i-02&#34;: tag Name: &#34;web\\nProxyCommand &lt;evil&gt;&#34; is not an instance name; not deployed</pre>",
			} {
				if !strings.Contains(md, want) {
					t.Errorf("summary lacks\n%s\nin:\n%s", want, md)
				}
			}
		})
	}
	if md := (Summary{Inputs: &Inputs{Goal: goal.Switch}, Workflow: run, Report: &engine.Report{}}).Markdown(); strings.Contains(md, "left out") {
		t.Errorf("a summary without warnings mentions them:\n%s", md)
	}
}

func TestWriteSummaryAppends(t *testing.T) {
	env := fakeEnv(t, nil)
	if err := os.WriteFile(env["GITHUB_STEP_SUMMARY"], []byte("earlier step\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, _ := newAction(env)
	if err := WriteSummary(a, "## nix-hive switch\n"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	if string(got) != "earlier step\n## nix-hive switch\n\n" {
		t.Errorf("step summary %q", got)
	}
}
