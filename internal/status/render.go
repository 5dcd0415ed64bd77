package status

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes a table of the instances and each drift's reason.
func (r *Result) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INSTANCE\tDRIFT\tREACHABLE\tEXPECTED\tRUNNING\tPROFILE")
	for _, n := range r.Names() {
		i := r.Instances[n]
		fmt.Fprintf(tw, "%s\t%t\t%t\t%s\t%s\t%s\n", n, i.Drift, i.Reachable, dash(i.Expected), dash(i.Running), dash(i.Profile))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("print the status: %w", err)
	}
	for _, n := range r.Drifted() {
		fmt.Fprintf(w, "%s: drift: %s\n", n, r.Instances[n].Reason)
	}
	_, err := fmt.Fprintf(w, "status: %s\n", r.Headline())
	return err
}

// Headline is one line for a person.
func (r *Result) Headline() string {
	d := r.Drifted()
	if len(d) == 0 {
		return fmt.Sprintf("all %d instances run what they should", len(r.Instances))
	}
	return fmt.Sprintf("%d of %d instances drifted: %s", len(d), len(r.Instances), strings.Join(d, ", "))
}

// Markdown is the status for a step summary: the headline, then one line
// per instance.
func (r *Result) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s**\n\n| Instance | Drift | Expected | Running | Profile |\n|---|---|---|---|---|\n", r.Headline())
	for _, n := range r.Names() {
		i := r.Instances[n]
		mark := "no"
		if i.Drift {
			mark = ":warning: " + strings.Join(strings.Fields(i.Reason), " ")
		}
		fmt.Fprintf(&b, "| %s | %s | `%s` | `%s` | `%s` |\n", n, mark, short(i.Expected), short(i.Running), short(i.Profile))
	}
	return b.String()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func short(p string) string { return dash(strings.TrimPrefix(p, "/nix/store/")) }
