// Package record records deployments in GitHub while the deploy engine
// runs: it is an engine.PlanObserver. From the plan (known before anything
// is built) it decides what to record: by default a deployment for each
// changed instance, none for unchanged ones (their current deployment is
// looked up instead); or, when that would not fit GitHub's write budget,
// one deployment per environment group. Each deployment costs at most three
// writes: create, in_progress, final state. Which status each of the
// engine's states calls for is decided in one place, tracker.next
// (status.go); a group's, in groupTracker (group.go).
//
// GitHub never holds up or breaks a deployment. Observe only queues the
// event; one goroutine per deployment sends its statuses in order, skipping
// an in_progress already overtaken by the result when GitHub is slow. A
// request that fails after the recorder's retries becomes a warning and the
// deployment goes on; a token without `deployments: write` gives one
// warning and stops all recording. No deployment is left without a final
// state unless Close gives up waiting.
package record

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nix-hive/nix-hive/internal/deployments"
	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/goal"
)

// ActiveLister finds an environment's active deployments, newest first;
// *deployments.GitHub is one.
type ActiveLister interface {
	Active(ctx context.Context, environment string) ([]int64, error)
}

// Finder finds the deployment that put each instance's path there;
// *deployments.GitHub is one.
type Finder interface {
	Find(ctx context.Context, wanted []deployments.Wanted, maxPages int) (map[string]deployments.Found, error)
}

// Limits tells what GitHub still allows; *deployments.GitHub is one.
// Refresh asks GitHub, for when no answer has told it yet.
type Limits interface {
	Budget() deployments.Budget
	Refresh(ctx context.Context) error
}

// Config configures an Observer.
type Config struct {
	// Recorder records the deployments. Required.
	Recorder deployments.Recorder
	// Goal is the run's goal.
	Goal goal.Goal
	// LogURL is the log link every status carries.
	LogURL string
	// Mode is how the plan is recorded; "" is Auto.
	Mode Mode
	// RecordUnchanged records a deployment for unchanged instances too.
	RecordUnchanged bool
	// Group returns the deployment of an environment group (all the
	// instances whose hive.nix environment is env), without its members;
	// required for PerEnvironment and Auto.
	Group func(env string) deployments.Request
	// Active, if set, finds the earlier active deployments of a production
	// environment, which the Observer retires itself when a deployment there
	// succeeds: GitHub's auto_inactive leaves production deployments alone.
	Active ActiveLister
	// Finder, if set, finds the deployments unchanged instances run.
	Finder Finder
	// Limits, if set, is GitHub's budget: the plan is fitted to it, and no
	// deployment is created whose final status would not fit.
	Limits Limits
	// Warn reports a recording that failed; Log says what is recorded and
	// why. nil discards.
	Warn, Log func(msg string)
}

// Observer records deployments as the engine reports progress. Create it
// with New, give it the instances' deployments with Plan before the engine
// runs, and call Close when the engine is done.
type Observer struct {
	cfg Config
	wg  sync.WaitGroup

	stopped atomic.Bool // no permission: record nothing more
	noPerm  sync.Once
	noRoom  sync.Once // the write budget ran out

	budgetMu sync.Mutex
	owed     int // writes reserved: creations under way, final statuses owed

	mu       sync.Mutex
	requests map[string]deployments.Request // by instance
	planned  bool                           // ObservePlan ran: route is complete
	route    map[string]*worker             // by instance
	workers  []*worker
	found    map[string]deployments.Found // unchanged instances' deployments
	decision Decision
	closed   bool
}

var _ engine.PlanObserver = (*Observer)(nil)

// New returns an Observer that records with cfg.
func New(cfg Config) *Observer {
	return &Observer{cfg: cfg, requests: map[string]deployments.Request{}, route: map[string]*worker{},
		found: map[string]deployments.Found{}}
}

// Plan sets the deployment to create for each instance.
func (o *Observer) Plan(reqs map[string]deployments.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for n, r := range reqs {
		o.requests[n] = r
	}
}

// Observe queues e for its deployment's worker and returns at once. The
// requests to GitHub use the values of the context of the plan (or of the
// first event) but not its cancellation: an instance skipped because the
// run was cancelled is still recorded. Close bounds how long they may take.
func (o *Observer) Observe(ctx context.Context, e engine.Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return
	}
	w := o.route[e.Instance]
	if w == nil && !o.planned { // no plan seen: each planned instance on its own
		req, ok := o.requests[e.Instance]
		if !ok {
			return
		}
		w = o.start(ctx, e.Instance, req, []string{e.Instance}, &tracker{goal: o.cfg.Goal})
	}
	if w != nil {
		w.push(e)
	}
}

// start starts the worker of one deployment; o.mu must be held.
func (o *Observer) start(ctx context.Context, name string, req deployments.Request, members []string, t statusTracker) *worker {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w := &worker{o: o, name: name, req: req, members: members, tracker: t, cancel: cancel, wake: make(chan struct{}, 1)}
	for _, m := range members {
		o.route[m] = w
	}
	o.workers = append(o.workers, w)
	o.wg.Add(1)
	go w.run(wctx)
	return w
}

// Close stops taking events and waits up to timeout for every deployment's
// statuses to be sent. When time runs out it abandons the rest and says
// which deployments have no final status.
func (o *Observer) Close(timeout time.Duration) error {
	o.mu.Lock()
	o.closed = true
	workers := append([]*worker(nil), o.workers...)
	o.mu.Unlock()
	for _, w := range workers {
		w.close()
	}
	done := make(chan struct{})
	go func() {
		o.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-time.After(timeout):
	}
	for _, w := range workers {
		w.cancel()
	}
	<-done // the workers' requests end with their contexts
	var open []string
	for _, w := range workers {
		if w.id.Load() != 0 && !w.final.Load() {
			open = append(open, w.name)
		}
	}
	sort.Strings(open)
	if len(open) == 0 {
		return nil
	}
	return fmt.Errorf("gave up waiting %s for GitHub: the deployments of %s have no final status", timeout, strings.Join(open, ", "))
}

// IDs returns, for each instance whose deployment (its own or its group's)
// was created, the deployment's id.
func (o *Observer) IDs() map[string]int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	ids := map[string]int64{}
	for _, w := range o.workers {
		if id := w.id.Load(); id != 0 {
			for _, m := range w.members {
				ids[m] = id
			}
		}
	}
	return ids
}

// Links returns, for each instance, the deployment the summary links: the
// one this run created for it or its group, else for an unchanged
// instance the one that put its path there, when found.
func (o *Observer) Links() map[string]deployments.Found {
	ids := o.IDs()
	o.mu.Lock()
	defer o.mu.Unlock()
	links := map[string]deployments.Found{}
	for n, f := range o.found {
		links[n] = f
	}
	for _, w := range o.workers {
		for _, m := range w.members {
			if id, ok := ids[m]; ok {
				links[m] = deployments.Found{ID: id, Environment: w.req.Environment}
			}
		}
	}
	return links
}

// failed reports a request that failed; the first refusal for lack of
// permission stops all recording. ctx is the request's.
func (o *Observer) failed(ctx context.Context, name string, err error) {
	if ctx.Err() != nil {
		return // Close gave up; it reports once
	}
	if errors.Is(err, deployments.ErrNoPermission) {
		o.stopped.Store(true)
		o.noPerm.Do(func() {
			o.warn(fmt.Sprintf("not recording deployments in GitHub: %v. The hosts are deployed regardless.", err))
		})
		return
	}
	o.warn(fmt.Sprintf("%s: could not record its deployment in GitHub, it is deployed regardless: %v", name, err))
}

// afford reports whether n more writes leave room for the writes already
// reserved, and reserves keep of them (so that concurrent deployments do
// not all take the last room). Release them with release.
func (o *Observer) afford(n, keep int) bool {
	if o.cfg.Limits == nil {
		return true
	}
	o.budgetMu.Lock()
	defer o.budgetMu.Unlock()
	b := o.cfg.Limits.Budget()
	if b.Writes-o.owed < n || (b.Requests >= 0 && b.Requests-o.owed < n) {
		return false
	}
	o.owed += keep
	return true
}

// release gives back n reserved writes.
func (o *Observer) release(n int) {
	if o.cfg.Limits == nil {
		return
	}
	o.budgetMu.Lock()
	defer o.budgetMu.Unlock()
	o.owed -= n
}

func (o *Observer) warn(msg string) {
	if o.cfg.Warn != nil {
		o.cfg.Warn(msg)
	}
}

func (o *Observer) log(msg string) {
	if o.cfg.Log != nil {
		o.cfg.Log(msg)
	}
}
