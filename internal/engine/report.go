package engine

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/nix-hive/nix-hive/internal/inventory"
)

// Report is every instance's outcome, as `--json` prints it.
type Report struct {
	mu sync.Mutex
	// Instances holds each instance's outcome, by name.
	Instances map[string]*Outcome `json:"instances"`
}

// Outcome is one instance's result.
type Outcome struct {
	// System is the instance's system.
	System string `json:"system"`
	// Path is the system's store path, once built.
	Path string `json:"path,omitempty"`
	// Store is the store the instance substitutes from, if any.
	Store string `json:"store,omitempty"`
	// Environment is the instance's GitHub environment.
	Environment string `json:"environment"`
	// Result is the last state the instance reached.
	Result State `json:"result"`
	// Error explains a failed, rolled-back or skipped instance.
	Error string `json:"error,omitempty"`
	// Seconds is how long the instance took, from planned to its result.
	Seconds float64 `json:"seconds"`
	// RebootRequired is set when the instance was activated but its new
	// system takes full effect only after a reboot.
	RebootRequired bool `json:"rebootRequired,omitempty"`
	// Warning is set when the instance was activated with a problem (failed
	// units kept by --on-activation-failure keep).
	Warning string `json:"warning,omitempty"`
	// Wave is the rollout wave the instance ran in ("2/3 @eu"), if any.
	Wave string `json:"wave,omitempty"`

	start time.Time
	err   error
}

func newReport() *Report { return &Report{Instances: map[string]*Outcome{}} }

func (r *Report) add(name string, inst inventory.Instance, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Instances[name] = &Outcome{System: inst.System, Store: inst.Store, Environment: inst.Environment, Result: Planned, start: now}
}

func (r *Report) update(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o := r.Instances[e.Instance]
	o.Result = e.State
	o.Seconds = e.Time.Sub(o.start).Round(time.Millisecond).Seconds()
	if e.Err != nil {
		o.err = e.Err
		o.Error = e.Err.Error()
	}
	o.RebootRequired = o.RebootRequired || e.RebootRequired
	if e.Warning != "" {
		o.Warning = e.Warning
	}
	o.Wave = e.Wave
}

func (r *Report) setPath(name, path string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Instances[name].Path = path
}

// Names returns the instance names in sorted order.
func (r *Report) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.Instances))
	for n := range r.Instances {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// err joins the errors of the instances that did not succeed.
func (r *Report) err() error {
	var errs []error
	for _, n := range r.Names() {
		o := r.Instances[n]
		if !o.Result.OK() {
			errs = append(errs, fmt.Errorf("%s: %s: %w", n, o.Result, o.err))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %d of %d instances did not succeed:\n%w", ErrFailed, len(errs), len(r.Instances), errors.Join(errs...))
}

// WriteTable writes the final table for a person: instance, system,
// result, seconds and the first line of any error (or of what a
// successful instance needs: a reboot, a look at its warning).
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	names := r.Names()
	waves := slices.ContainsFunc(names, func(n string) bool { return r.Instances[n].Wave != "" })
	if waves {
		slices.SortStableFunc(names, func(a, b string) int { return compareWaves(r.Instances[a].Wave, r.Instances[b].Wave) })
		fmt.Fprintln(tw, "WAVE\tINSTANCE\tSYSTEM\tRESULT\tSECONDS\tERROR")
	} else {
		fmt.Fprintln(tw, "INSTANCE\tSYSTEM\tRESULT\tSECONDS\tERROR")
	}
	for _, n := range names {
		o := r.Instances[n]
		if waves {
			fmt.Fprintf(tw, "%s\t", o.Wave)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t%s\n", n, o.System, o.Result, o.Seconds, firstLine(o.note()))
	}
	return tw.Flush()
}

// compareWaves orders wave names ("2/10 @eu") by their number.
func compareWaves(a, b string) int {
	num := func(w string) int {
		n, _ := strconv.Atoi(w[:strings.IndexAny(w+"/", "/")])
		return n
	}
	return num(a) - num(b)
}

// Errors writes, for each instance that did not succeed, its whole error
// with the nix or ssh output tail.
func (r *Report) Errors(w io.Writer) {
	for _, n := range r.Names() {
		o := r.Instances[n]
		if o.Error != "" {
			fmt.Fprintf(w, "\n%s (%s):\n  %s\n", n, o.Result, strings.ReplaceAll(o.Error, "\n", "\n  "))
		}
	}
}

// note is the table's last column: the error, else a reboot that is
// required and any warning.
func (o *Outcome) note() string {
	if o.Error != "" {
		return o.Error
	}
	var notes []string
	if o.RebootRequired {
		notes = append(notes, "reboot required")
	}
	if o.Warning != "" {
		notes = append(notes, "warning: "+o.Warning)
	}
	return strings.Join(notes, "; ")
}
