package record

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/nix-hive/nix-hive/internal/deployments"
	"github.com/nix-hive/nix-hive/internal/engine"
)

// statusTracker says which status each event calls for: tracker for an
// instance's deployment, groupTracker for a group's.
type statusTracker interface {
	next(e engine.Event) (st deployments.Status, ok, final bool)
}

// worker sends one deployment and its statuses, in order: an instance's,
// or a group's.
type worker struct {
	o       *Observer
	name    string // the instance, or the group's environment
	req     deployments.Request
	members []string           // the instances it records
	tracker statusTracker      // used by run only
	cancel  context.CancelFunc // ends the worker's requests, when Close gives up
	id      atomic.Int64
	final   atomic.Bool
	lastErr error // why the latest request failed; used by run only
	ended   bool  // a final status was sent or attempted, or none will be; used by run only

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

// run sends the deployment's requests with ctx until its queue is closed,
// and ends a deployment left without a final state in error.
func (w *worker) run(ctx context.Context) {
	defer w.o.wg.Done()
	defer w.cancel()
	for {
		events, ok := w.take(ctx)
		if !ok {
			break
		}
		w.send(ctx, steps(events, w.tracker))
	}
	if w.id.Load() != 0 && !w.final.Load() && ctx.Err() == nil {
		reason := "nix-hive stopped before the deployment finished"
		if w.lastErr != nil {
			reason = "GitHub refused its last status: " + w.lastErr.Error()
		}
		w.set(ctx, deployments.Status{State: deployments.StateError, Description: reason})
	}
}

// steps turns a batch of events into requests.
func steps(events []engine.Event, t statusTracker) []step {
	var out []step
	for _, e := range events {
		if e.State == engine.Planned {
			out = append(out, step{create: true, path: e.Path})
		}
		if st, ok, final := t.next(e); ok {
			out = append(out, step{status: st, final: final})
		}
	}
	return out
}

// send sends a batch's requests, skipping an in_progress already overtaken
// by a later status and anything after a final one.
func (w *worker) send(ctx context.Context, steps []step) {
	for i, s := range steps {
		switch {
		case s.create:
			w.create(ctx, s.path)
		case w.final.Load() || w.ended:
		case s.status.State == deployments.StateInProgress &&
			(slices.ContainsFunc(steps[i+1:], func(s step) bool { return !s.create }) || !w.o.afford(1, 0)):
			// overtaken by a later status of the same batch, or no room left
		default:
			w.set(ctx, s.status)
			if s.final {
				w.ended = true
				w.finish(ctx, s.status)
			}
		}
	}
}

// create creates the deployment, once, if the budget leaves room for its
// final status too.
func (w *worker) create(ctx context.Context, path string) {
	if w.o.stopped.Load() || w.id.Load() != 0 || w.ended {
		return
	}
	if !w.o.afford(2, 2) { // the creation and the final status

		w.ended = true
		w.o.noRoom.Do(func() {
			w.o.warn("GitHub's write budget is used up: later deployments are not recorded; the hosts are deployed regardless")
		})
		return
	}
	req := w.req
	if path != "" && len(req.Members) == 0 {
		req.StorePath = path
	}
	id, err := w.o.cfg.Recorder.Create(ctx, req)
	if err != nil {
		w.o.release(2)
		w.lastErr = err
		w.o.failed(ctx, w.name, err)
		return
	}
	w.o.release(1) // the creation is counted now; the final status stays owed
	w.id.Store(id)
}

// set sends a status; a final one pays what the deployment owed.
func (w *worker) set(ctx context.Context, st deployments.Status) {
	id := w.id.Load()
	if w.o.stopped.Load() || id == 0 {
		return
	}
	st.LogURL = w.o.cfg.LogURL
	if err := w.o.cfg.Recorder.SetStatus(ctx, id, st); err != nil {
		w.lastErr = err
		w.o.failed(ctx, w.name, err)
		return
	}
	if st.State != deployments.StateInProgress && st.State != deployments.StateQueued && !w.final.Swap(true) {
		w.o.release(1)
	}
}

// finish retires the earlier active deployments of a production
// environment after a success that replaces them: GitHub's auto_inactive
// does it everywhere else. It reads a bounded number of deployments
// (deployments.GitHub.Active).
func (w *worker) finish(ctx context.Context, st deployments.Status) {
	id := w.id.Load()
	if !st.AutoInactive || !w.req.Production || w.o.cfg.Active == nil || !w.final.Load() || w.o.stopped.Load() {
		return
	}
	active, err := w.o.cfg.Active.Active(ctx, w.req.Environment)
	if err != nil {
		w.o.failed(ctx, w.name, err)
		return
	}
	for _, prev := range active {
		if prev >= id || !w.o.afford(1, 0) {
			continue
		}
		err := w.o.cfg.Recorder.SetStatus(ctx, prev, deployments.Status{
			State: deployments.StateInactive, Description: fmt.Sprintf("superseded by deployment %d", id), LogURL: w.o.cfg.LogURL,
		})
		if err != nil {
			w.o.failed(ctx, w.name, fmt.Errorf("retire its earlier deployment %d: %w", prev, err))
		}
	}
}
