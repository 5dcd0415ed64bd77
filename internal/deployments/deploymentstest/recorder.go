// Package deploymentstest provides an in-memory deployments.Recorder for
// tests of code that records deployments, such as the deploy engine. It
// fails the test on misuse: a status for a deployment it never created, an
// unknown state, a request without a ref, or a status after a final one
// other than inactive.
package deploymentstest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/nix-hive/nix-hive/internal/deployments"
)

// Deployment is what the Recorder was told about one deployment.
type Deployment struct {
	ID       int64
	Request  deployments.Request
	Statuses []deployments.Status
}

// States lists the states of the deployment's statuses in order.
func (d Deployment) States() []deployments.State {
	states := make([]deployments.State, len(d.Statuses))
	for i, st := range d.Statuses {
		states[i] = st.State
	}
	return states
}

// Recorder is an in-memory deployments.Recorder. Create it with New.
type Recorder struct {
	t testing.TB

	mu          sync.Mutex
	deployments []*Deployment
	failures    []error
}

var _ deployments.Recorder = (*Recorder)(nil)

// New returns an empty Recorder reporting misuse to t.
func New(t testing.TB) *Recorder { return &Recorder{t: t} }

// FailNext makes the next calls, one error each in order, fail with errs
// and record nothing.
func (r *Recorder) FailNext(errs ...error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, errs...)
}

func (r *Recorder) nextFailure() error {
	if len(r.failures) == 0 {
		return nil
	}
	err := r.failures[0]
	r.failures = r.failures[1:]
	return err
}

// Create records req and returns ids 1, 2, 3, ...
func (r *Recorder) Create(ctx context.Context, req deployments.Request) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.nextFailure(); err != nil {
		return 0, err
	}
	if req.Ref == "" {
		r.t.Errorf("deploymentstest: Create(%+v) without a ref", req)
		return 0, errors.New("deploymentstest: no ref")
	}
	d := &Deployment{ID: int64(len(r.deployments) + 1), Request: req}
	r.deployments = append(r.deployments, d)
	return d.ID, nil
}

// SetStatus appends st to deployment id.
func (r *Recorder) SetStatus(ctx context.Context, id int64, st deployments.Status) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.nextFailure(); err != nil {
		return err
	}
	if id < 1 || int(id) > len(r.deployments) {
		r.t.Errorf("deploymentstest: SetStatus(%d, %s) on a deployment never created", id, st.State)
		return errors.New("deploymentstest: no such deployment")
	}
	if !st.State.Valid() {
		r.t.Errorf("deploymentstest: SetStatus(%d) with unknown state %q", id, st.State)
		return errors.New("deploymentstest: unknown state")
	}
	d := r.deployments[id-1]
	if n := len(d.Statuses); n > 0 && final(d.Statuses[n-1].State) && st.State != deployments.StateInactive {
		r.t.Errorf("deploymentstest: SetStatus(%d, %s) after final state %s (instance %s)",
			id, st.State, d.Statuses[n-1].State, d.Request.Instance)
	}
	d.Statuses = append(d.Statuses, st)
	return nil
}

func final(s deployments.State) bool {
	return s == deployments.StateSuccess || s == deployments.StateFailure || s == deployments.StateError
}

// Deployments returns a snapshot of the recorded deployments, by id.
func (r *Recorder) Deployments() []Deployment {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Deployment, len(r.deployments))
	for i, d := range r.deployments {
		out[i] = *d
		out[i].Statuses = append([]deployments.Status(nil), d.Statuses...)
	}
	return out
}

// Latest returns the last deployment recorded for an instance.
func (r *Recorder) Latest(instance string) (Deployment, bool) {
	all := r.Deployments()
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Request.Instance == instance {
			return all[i], true
		}
	}
	return Deployment{}, false
}
