// Package record records each instance's deployment in GitHub while the
// deploy engine runs: it is a engine.Observer that creates a deployment when
// an instance is planned and adds statuses as the instance progresses.
// Which status each of the engine's states calls for is decided in one
// place, tracker.next (status.go).
//
// GitHub never holds up or breaks a deployment. Observe only queues the
// event; one goroutine per instance sends the instance's statuses in order,
// skipping in-progress statuses already overtaken by later ones when GitHub
// is slow. A request that fails after the recorder's retries becomes a
// warning and the deployment goes on; a token without `deployments: write`
// gives one warning and stops all recording.
package record

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// Config configures an Observer.
type Config struct {
	// Recorder records the deployments. Required.
	Recorder deployments.Recorder
	// Goal is the run's goal.
	Goal goal.Goal
	// LogURL is the log link every status carries.
	LogURL string
	// Active, if set, finds the earlier active deployments of a production
	// environment, which the Observer retires itself when a deployment there
	// succeeds: GitHub's auto_inactive leaves production deployments alone.
	Active ActiveLister
	// Warn reports a recording that failed; nil discards it.
	Warn func(msg string)
}

// Observer records deployments as the engine reports progress. Create it
// with New, give it the instances' deployments with Plan before the engine
// runs, and call Close when the engine is done.
type Observer struct {
	cfg Config
	wg  sync.WaitGroup

	stopped atomic.Bool // no permission: record nothing more
	noPerm  sync.Once

	mu       sync.Mutex
	requests map[string]deployments.Request
	workers  map[string]*worker
	closed   bool
}

var _ engine.Observer = (*Observer)(nil)

// New returns an Observer that records with cfg.
func New(cfg Config) *Observer {
	return &Observer{cfg: cfg, requests: map[string]deployments.Request{}, workers: map[string]*worker{}}
}

// Plan sets the deployment to create for each instance when it is planned.
func (o *Observer) Plan(reqs map[string]deployments.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for n, r := range reqs {
		o.requests[n] = r
	}
}

// Observe queues e for its instance's worker and returns at once. The
// instance's requests to GitHub use the values of the context of its first
// event but not its cancellation: an instance skipped because the run was
// cancelled is still recorded. Close bounds how long they may take.
func (o *Observer) Observe(ctx context.Context, e engine.Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return
	}
	w := o.workers[e.Instance]
	if w == nil {
		req, ok := o.requests[e.Instance]
		if !ok {
			return // not planned: not recorded
		}
		wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		w = &worker{o: o, req: req, tracker: tracker{goal: o.cfg.Goal}, cancel: cancel, wake: make(chan struct{}, 1)}
		o.workers[e.Instance] = w
		o.wg.Add(1)
		go w.run(wctx)
	}
	w.push(e)
}

// Close stops taking events and waits up to timeout for every instance's
// statuses to be sent. When time runs out it abandons the rest and says
// which instances' deployments have no final status.
func (o *Observer) Close(timeout time.Duration) error {
	o.mu.Lock()
	o.closed = true
	workers := make([]*worker, 0, len(o.workers))
	for _, w := range o.workers {
		workers = append(workers, w)
	}
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
			open = append(open, w.req.Instance)
		}
	}
	sort.Strings(open)
	if len(open) == 0 {
		return nil
	}
	return fmt.Errorf("gave up waiting %s for GitHub: the deployments of %s have no final status", timeout, strings.Join(open, ", "))
}

// IDs returns the deployment id of each instance whose deployment was
// created.
func (o *Observer) IDs() map[string]int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	ids := map[string]int64{}
	for n, w := range o.workers {
		if id := w.id.Load(); id != 0 {
			ids[n] = id
		}
	}
	return ids
}

// failed reports a request that failed; the first refusal for lack of
// permission stops all recording. ctx is the request's.
func (o *Observer) failed(ctx context.Context, instance string, err error) {
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
	o.warn(fmt.Sprintf("%s: could not record its deployment in GitHub, it is deployed regardless: %v", instance, err))
}

func (o *Observer) warn(msg string) {
	if o.cfg.Warn != nil {
		o.cfg.Warn(msg)
	}
}

// worker sends one instance's deployment and statuses, in order.
type worker struct {
	o       *Observer
	req     deployments.Request
	tracker tracker            // used by run only
	cancel  context.CancelFunc // ends the worker's requests, when Close gives up
	id      atomic.Int64
	final   atomic.Bool

	mu     sync.Mutex
	queue  []engine.Event
	closed bool
	wake   chan struct{}
}

func (w *worker) push(e engine.Event) {
	w.mu.Lock()
	w.queue = append(w.queue, e)
	w.mu.Unlock()
	w.signal()
}

func (w *worker) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.signal()
}

func (w *worker) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// take waits for queued events; ok is false once the queue is closed and
// empty, or ctx is done (the Observer gave up).
func (w *worker) take(ctx context.Context) (events []engine.Event, ok bool) {
	for {
		w.mu.Lock()
		events, w.queue = w.queue, nil
		closed := w.closed
		w.mu.Unlock()
		if len(events) > 0 {
			return events, true
		}
		if closed {
			return nil, false
		}
		select {
		case <-w.wake:
		case <-ctx.Done():
			return nil, false
		}
	}
}

// step is one request a batch of events calls for.
type step struct {
	create bool
	path   string // the system's store path, for the deployment's payload
	status deployments.Status
	final  bool
}

// run sends the instance's requests with ctx until its queue is closed.
func (w *worker) run(ctx context.Context) {
	defer w.o.wg.Done()
	defer w.cancel()
	ended := false // a final status was sent (or attempted)
	for {
		events, ok := w.take(ctx)
		if !ok {
			break
		}
		var steps []step
		for _, e := range events {
			if e.State == engine.Planned {
				steps = append(steps, step{create: true, path: e.Path})
			}
			if st, ok, final := w.tracker.next(e); ok {
				steps = append(steps, step{status: st, final: final})
			}
		}
		for i, s := range steps {
			switch {
			case s.create:
				w.create(ctx, s.path)
			case s.status.State == deployments.StateInProgress && slices.ContainsFunc(steps[i+1:], func(s step) bool { return !s.create }):
				// overtaken by a later status of the same batch
			case !ended:
				w.set(ctx, s.status)
				if s.final {
					ended = true
					w.finish(ctx, s.status)
				}
			}
		}
	}
	if !ended && ctx.Err() == nil {
		w.set(ctx, deployments.Status{State: deployments.StateError, Description: "nix-hive stopped before the instance finished"})
	}
}

func (w *worker) create(ctx context.Context, path string) {
	if w.o.stopped.Load() || w.id.Load() != 0 {
		return
	}
	req := w.req
	if path != "" {
		req.StorePath = path
	}
	id, err := w.o.cfg.Recorder.Create(ctx, req)
	if err != nil {
		w.o.failed(ctx, w.req.Instance, err)
		return
	}
	w.id.Store(id)
}

func (w *worker) set(ctx context.Context, st deployments.Status) {
	id := w.id.Load()
	if w.o.stopped.Load() || id == 0 {
		return
	}
	st.LogURL = w.o.cfg.LogURL
	if err := w.o.cfg.Recorder.SetStatus(ctx, id, st); err != nil {
		w.o.failed(ctx, w.req.Instance, err)
		return
	}
	if st.State != deployments.StateInProgress && st.State != deployments.StateQueued {
		w.final.Store(true)
	}
}

// finish retires the earlier active deployments of a production
// environment after a success that replaces them, as auto_inactive does
// elsewhere.
func (w *worker) finish(ctx context.Context, st deployments.Status) {
	id := w.id.Load()
	if !st.AutoInactive || !w.req.Production || w.o.cfg.Active == nil || !w.final.Load() || w.o.stopped.Load() {
		return
	}
	active, err := w.o.cfg.Active.Active(ctx, w.req.Environment)
	if err != nil {
		w.o.failed(ctx, w.req.Instance, err)
		return
	}
	for _, prev := range active {
		if prev >= id {
			continue
		}
		err := w.o.cfg.Recorder.SetStatus(ctx, prev, deployments.Status{
			State: deployments.StateInactive, Description: fmt.Sprintf("superseded by deployment %d", id), LogURL: w.o.cfg.LogURL,
		})
		if err != nil {
			w.o.failed(ctx, w.req.Instance, fmt.Errorf("retire its earlier deployment %d: %w", prev, err))
		}
	}
}
