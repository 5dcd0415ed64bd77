package action

import (
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/nix-hive/nix-hive/internal/deployments"
	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/flake"
)

// Summary is what the step summary reports about a run.
type Summary struct {
	Inputs   *Inputs
	Workflow *Workflow
	// Report is every instance's outcome; nil when the run stopped before
	// deploying (Err says why).
	Report *engine.Report
	// Environments are the instances' GitHub environment names.
	Environments map[string]string
	// IDs are the deployments recorded in GitHub by this run, by instance
	// (a group's deployment for each of its instances).
	IDs map[string]int64
	// Links are the deployments the table links, by instance: the ones
	// this run recorded, and for unchanged instances the ones that put
	// their paths there, when found.
	Links map[string]deployments.Found
	// Recording says what was recorded in GitHub and why.
	Recording string
	// Flake is the locked flake a hive from a flake was evaluated from;
	// nil for a hive.nix.
	Flake *flake.Locked
	// Err is the run's error, if any.
	Err error
	// Warnings are the machines the hive's discover sources left out,
	// one line each (see inventory.Inventory.Warnings).
	Warnings []string
}

// title names what the run did: its goal, or rollback.
func (s Summary) title() string {
	if s.Inputs.Command == Rollback {
		return string(Rollback)
	}
	return string(s.Inputs.Goal)
}

// Markdown renders the summary: a headline, a table of instance, system,
// result, duration and deployment link, then each error in full.
func (s Summary) Markdown() string {
	var b strings.Builder
	if s.Inputs == nil || s.Workflow == nil { // the inputs were wrong
		fmt.Fprintf(&b, "## nix-hive\n\nnix-hive did not start:\n\n<pre>%s</pre>\n", html.EscapeString(fmt.Sprint(s.Err)))
		return b.String()
	}
	fmt.Fprintf(&b, "## nix-hive %s\n\n", s.title())
	fmt.Fprintf(&b, "`%s/%s` at `%s`, %s", s.Workflow.Owner, s.Workflow.Repo, short(s.Workflow.SHA), cell(s.Workflow.Trigger.String()))
	if s.Report != nil {
		ok, names := 0, s.Report.Names()
		for _, n := range names {
			if s.Report.Instances[n].Result.OK() {
				ok++
			}
		}
		fmt.Fprintf(&b, ": %d of %d instances succeeded", ok, len(names))
	}
	b.WriteString(".\n\n")
	s.context(&b)
	if s.Inputs.DryRun {
		b.WriteString("**Dry run:** the log shows the commands; nothing was changed and no deployment was recorded.\n\n")
	}
	if s.Report == nil {
		if s.Err != nil {
			fmt.Fprintf(&b, "nix-hive stopped before deploying anything:\n\n<pre>%s</pre>\n", html.EscapeString(s.Err.Error()))
		}
		s.leftOut(&b)
		return b.String()
	}

	b.WriteString("| Instance | System | Result | Duration | Deployment |\n| --- | --- | --- | --- | --- |\n")
	var failed []string
	for _, n := range s.Report.Names() {
		o := s.Report.Instances[n]
		result := string(o.Result)
		if o.RebootRequired {
			result += ", reboot required"
		}
		if o.Wave != "" {
			result += " (wave " + o.Wave + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | %s %s | %s | %s |\n", cell(n), cell(o.System), mark(o.Result), cell(result),
			duration(o.Seconds), s.deployment(n))
		if o.Error != "" || o.Warning != "" {
			failed = append(failed, n)
		}
	}
	for _, n := range failed {
		o := s.Report.Instances[n]
		text := o.Error
		if text == "" {
			text = "warning: " + o.Warning
		}
		fmt.Fprintf(&b, "\n<details><summary>%s: %s</summary>\n\n<pre>%s</pre>\n</details>\n",
			html.EscapeString(n), o.Result, html.EscapeString(text))
	}
	s.leftOut(&b)
	return b.String()
}

// flakeRevision names a locked flake's git revision and narHash.
func flakeRevision(f *flake.Locked) string {
	if f.Rev == "" {
		return fmt.Sprintf("narHash `%s`", f.NarHash)
	}
	return fmt.Sprintf("revision `%s`, narHash `%s`", f.Rev, f.NarHash)
}

// leftOut lists the machines discovery left out, values escaped: they
// come from the infrastructure.
func (s Summary) leftOut(b *strings.Builder) {
	if len(s.Warnings) == 0 {
		return
	}
	what := fmt.Sprintf("%d machines found by `discover` were", len(s.Warnings))
	if len(s.Warnings) == 1 {
		what = "1 machine found by `discover` was"
	}
	fmt.Fprintf(b, "\n**%s left out** and not deployed:\n\n<pre>%s</pre>\n", what, html.EscapeString(strings.Join(s.Warnings, "\n")))
}

// context writes what was recorded in GitHub and where the systems came
// from.
func (s Summary) context(b *strings.Builder) {
	if s.Recording != "" {
		fmt.Fprintf(b, "GitHub: %s.\n\n", html.EscapeString(s.Recording))
	}
	if f := s.Flake; f != nil {
		fmt.Fprintf(b, "Systems from the flake `%s` (locked `%s`), %s.\n\n", cell(f.String()), cell(f.URL), flakeRevision(f))
	}
}

// deployment is the table's link to an instance's deployment history.
func (s Summary) deployment(name string) string {
	env := s.Environments[name]
	l, ok := s.Links[name]
	if !ok && s.IDs[name] != 0 { // IDs without Links: a deployment in the instance's environment
		l, ok = deployments.Found{ID: s.IDs[name], Environment: env}, true
	}
	switch {
	case env == "":
		return ""
	case !ok:
		return cell(env) + " (not recorded)"
	}
	return fmt.Sprintf("[%s](%s) #%d", cell(l.Environment), s.Workflow.EnvironmentURL(l.Environment), l.ID)
}

func mark(s engine.State) string {
	switch {
	case s == engine.Skipped:
		return "⏭️"
	case !s.OK():
		return "❌"
	}
	return "✅"
}

func duration(seconds float64) string {
	d := time.Duration(seconds * float64(time.Second))
	if d < time.Minute {
		return fmt.Sprintf("%.1f s", seconds)
	}
	return d.Round(time.Second).String()
}

// cell makes text safe in a markdown table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
