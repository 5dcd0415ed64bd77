package plan

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// Names returns the instance names, sorted.
func (r *Result) Names() []string { return slices.Sorted(maps.Keys(r.Instances)) }

// Counts counts the instances per plan.
func (r *Result) Counts() map[State]int {
	c := map[State]int{}
	for _, i := range r.Instances {
		c[i.Plan]++
	}
	return c
}

// Headline is one line for a person: "2 changed, 4 unchanged".
func (r *Result) Headline() string {
	c := r.Counts()
	var parts []string
	for _, s := range []State{Changed, New, Unknown, Unchanged} {
		if c[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c[s], s))
		}
	}
	if len(parts) == 0 {
		return "no instance selected"
	}
	return strings.Join(parts, ", ")
}

// WriteText writes a table of the instances, then each changed
// instance's closure diff, and the headline.
func (r *Result) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INSTANCE\tSYSTEM\tPLAN\tRUNNING\tTARGET")
	for _, n := range r.Names() {
		i := r.Instances[n]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", n, i.System, i.Plan, orDash(i.Running), orDash(i.Target))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("print the plan: %w", err)
	}
	for _, n := range r.Names() {
		i := r.Instances[n]
		if i.Diff != nil {
			fmt.Fprintf(w, "\n%s (%s):\n", n, i.Plan)
			i.Diff.Write(w, "  ")
		}
		if i.Error != "" {
			fmt.Fprintf(w, "\n%s: %s\n", n, i.Error)
		}
	}
	_, err := fmt.Fprintf(w, "\nplan: %s\n", r.Headline())
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Markdown renders the plan for a step summary or a pull-request
// comment: the headline, a table, and each changed instance's diff in a
// collapsed block. Instances sharing a system and a diff are shown once.
func (r *Result) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s**\n\n| Instance | System | Plan | Running → target |\n|---|---|---|---|\n", r.Headline())
	for _, n := range r.Names() {
		i := r.Instances[n]
		paths := "`" + orDash(short(i.Running)) + "` → `" + orDash(short(i.Target)) + "`"
		if i.Plan == Unchanged {
			paths = "`" + short(i.Target) + "`"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", n, i.System, i.Plan, paths)
	}
	for _, n := range r.Names() {
		if i := r.Instances[n]; i.Error != "" {
			fmt.Fprintf(&b, "\n:warning: **%s**: %s\n", n, oneLine(i.Error))
		}
	}
	for _, g := range r.diffGroups() {
		i := r.Instances[g[0]]
		var d bytes.Buffer
		i.Diff.Write(&d, "")
		fmt.Fprintf(&b, "\n<details><summary>%s: %d package(s) change</summary>\n\n```\n%s```\n</details>\n",
			strings.Join(g, ", "), len(i.Diff.Changes), d.String())
	}
	return b.String()
}

// short is a store path without its /nix/store/ prefix.
func short(p string) string { return strings.TrimPrefix(p, "/nix/store/") }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// diffGroups groups the instances with a diff by their running and target
// paths (the same diff), in name order.
func (r *Result) diffGroups() [][]string {
	index := map[string]int{}
	var out [][]string
	for _, n := range r.Names() {
		i := r.Instances[n]
		if i.Diff == nil {
			continue
		}
		key := i.Running + " " + i.Target
		if k, ok := index[key]; ok {
			out[k] = append(out[k], n)
			continue
		}
		index[key] = len(out)
		out = append(out, []string{n})
	}
	return out
}
