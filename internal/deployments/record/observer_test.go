package record

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nix-hive/nix-hive/internal/deployments"
	"github.com/nix-hive/nix-hive/internal/deployments/deploymentstest"
	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/goal"
)

const logURL = "https://github.com/acme/fleet/actions/runs/7/job/9"

// recorder wraps the fake recorder: it reports each call on calls, fails
// the calls named in failing, and holds each call while a gate is set.
type recorder struct {
	*deploymentstest.Recorder
	calls chan string // "create web-1", "status web-1 queued"

	mu      sync.Mutex
	gate    chan struct{}
	failing map[string]error
	creates []string
}

func newRecorder(t *testing.T) *recorder {
	return &recorder{Recorder: deploymentstest.New(t), calls: make(chan string, 100), failing: map[string]error{}}
}

// fail makes the call named call fail with err.
func (r *recorder) fail(call string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failing[call] = err
}

// hold makes the next calls wait until the returned channel is closed.
func (r *recorder) hold() chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gate = make(chan struct{})
	return r.gate
}

// enter reports a call, waits at the gate and returns the call's injected
// error.
func (r *recorder) enter(ctx context.Context, call string) error {
	r.mu.Lock()
	gate, err := r.gate, r.failing[call]
	r.mu.Unlock()
	r.calls <- call
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return err
}

func (r *recorder) Create(ctx context.Context, req deployments.Request) (int64, error) {
	r.mu.Lock()
	r.creates = append(r.creates, req.Instance)
	r.mu.Unlock()
	if err := r.enter(ctx, "create "+req.Instance); err != nil {
		return 0, err
	}
	return r.Recorder.Create(ctx, req)
}

func (r *recorder) SetStatus(ctx context.Context, id int64, st deployments.Status) error {
	instance := fmt.Sprint(id)
	if all := r.Deployments(); id >= 1 && int(id) <= len(all) {
		instance = all[id-1].Request.Instance
	}
	if err := r.enter(ctx, fmt.Sprintf("status %s %s", instance, st.State)); err != nil {
		return err
	}
	return r.Recorder.SetStatus(ctx, id, st)
}

// next waits for the next call.
func (r *recorder) next(t *testing.T) string {
	t.Helper()
	select {
	case c := <-r.calls:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no call to the recorder within 5s")
		return ""
	}
}

// warnings collects the observer's warnings.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) add(msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, msg)
}

func (w *warnings) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.msgs)
}

func requests() map[string]deployments.Request {
	return map[string]deployments.Request{
		"web-1": {Instance: "web-1", System: "web", Goal: "switch", Environment: "production/web-1", Ref: "main",
			EnvironmentURL: "https://web-1.example.org", Production: true},
		"db-1": {Instance: "db-1", System: "db", Goal: "switch", Environment: "staging/db-1", Ref: "main"},
	}
}

func event(name string, s engine.State, detail string, err error) engine.Event {
	return engine.Event{Instance: name, State: s, Detail: detail, Err: err, Time: time.Now()}
}

func newObserver(t *testing.T, rec deployments.Recorder, goal goal.Goal, active ActiveLister) (*Observer, *warnings) {
	w := &warnings{}
	o := New(Config{Recorder: rec, Goal: goal, LogURL: logURL, Active: active, Warn: w.add})
	o.Plan(requests())
	return o, w
}

func TestObserverFollowsEachInstance(t *testing.T) {
	rec := newRecorder(t)
	o, warns := newObserver(t, rec, goal.Switch, nil)
	// Each event's calls are made before the next event is observed, so
	// nothing is coalesced.
	steps := []struct {
		e     engine.Event
		calls []string
	}{
		{event("web-1", engine.Planned, "switch", nil), []string{"create web-1"}},
		{event("db-1", engine.Planned, "switch", nil), []string{"create db-1"}},
		{event("db-1", engine.Building, "db", nil), []string{"status db-1 in_progress"}},
		{event("web-1", engine.Building, "web", nil), []string{"status web-1 in_progress"}},
		{event("db-1", engine.Failed, "", errors.New("build system db: boom")), []string{"status db-1 error"}},
		{event("web-1", engine.Built, path, nil), nil},
		{event("web-1", engine.Copying, "from the runner", nil), nil}, // one in_progress: later phases go to the log
		{event("web-1", engine.Copied, "", nil), nil},
		{event("web-1", engine.Activating, "switch", nil), nil},
		{event("web-1", engine.Activated, "switch", nil), []string{"status web-1 success"}},
	}
	for _, s := range steps {
		o.Observe(t.Context(), s.e)
		for _, want := range s.calls {
			if got := rec.next(t); got != want {
				t.Fatalf("after %s: call %q, want %q", s.e, got, want)
			}
		}
	}
	if err := o.Close(time.Second); err != nil {
		t.Fatal(err)
	}
	if w := warns.all(); len(w) != 0 {
		t.Errorf("warnings %q", w)
	}

	web, _ := rec.Latest("web-1")
	if !reflect.DeepEqual(web.Request, requests()["web-1"]) {
		t.Errorf("web-1 request %+v", web.Request)
	}
	wantWeb := []deployments.State{"in_progress", "success"} // with the creation, three writes
	if !slices.Equal(web.States(), wantWeb) {
		t.Errorf("web-1 states %v, want %v", web.States(), wantWeb)
	}
	for _, st := range web.Statuses {
		if st.LogURL != logURL {
			t.Errorf("status %s without the log URL: %q", st.State, st.LogURL)
		}
	}
	if last := web.Statuses[len(web.Statuses)-1]; !last.AutoInactive || last.Description != "running: "+path {
		t.Errorf("final status %+v", last)
	}
	db, _ := rec.Latest("db-1")
	if want := []deployments.State{"in_progress", "error"}; !slices.Equal(db.States(), want) {
		t.Errorf("db-1 states %v, want %v", db.States(), want)
	}
	if ids := o.IDs(); ids["web-1"] != web.ID || ids["db-1"] != db.ID || len(ids) != 2 {
		t.Errorf("IDs %v", ids)
	}
}

func TestObserverSkipsOvertakenProgress(t *testing.T) {
	rec := newRecorder(t)
	gate := rec.hold()
	o, _ := newObserver(t, rec, goal.Switch, nil)
	o.Observe(t.Context(), event("web-1", engine.Planned, "switch", nil))
	if got := rec.next(t); got != "create web-1" {
		t.Fatalf("call %q", got)
	}
	// GitHub is slow: the instance goes all the way meanwhile.
	start := time.Now()
	for _, e := range []engine.Event{
		event("web-1", engine.Building, "web", nil), event("web-1", engine.Built, path, nil),
		event("web-1", engine.Copying, "from the runner", nil), event("web-1", engine.Copied, "", nil),
		event("web-1", engine.Activating, "switch", nil), event("web-1", engine.Activated, "switch", nil),
	} {
		o.Observe(t.Context(), e)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("Observe took %s while GitHub was slow; it must not wait", d)
	}
	close(gate)
	if err := o.Close(time.Second); err != nil {
		t.Fatal(err)
	}
	d, _ := rec.Latest("web-1")
	if want := []deployments.State{"success"}; !slices.Equal(d.States(), want) {
		t.Errorf("states %v, want %v: progress overtaken by the result is not sent", d.States(), want)
	}
}

func TestObserverWarnsAndGoesOn(t *testing.T) {
	rec := newRecorder(t)
	o, warns := newObserver(t, rec, goal.Switch, nil)
	rec.fail("create db-1", errors.New("record deployment of db-1 in GitHub: gave up after 5 attempts: GitHub answered 502 Bad Gateway"))
	rec.fail("status web-1 in_progress", errors.New("set status in_progress: GitHub answered 500"))
	for _, e := range []engine.Event{
		event("db-1", engine.Planned, "switch", nil), event("db-1", engine.Building, "db", nil), event("db-1", engine.Failed, "", errors.New("boom")),
		event("web-1", engine.Planned, "switch", nil), event("web-1", engine.Building, "web", nil),
	} {
		o.Observe(t.Context(), e)
	}
	// A status that fails is skipped; the next ones are still sent.
	for rec.next(t) != "status web-1 in_progress" {
	}
	o.Observe(t.Context(), event("web-1", engine.Unchanged, "already running "+path, nil))
	if err := o.Close(time.Second); err != nil {
		t.Fatal(err)
	}
	if _, ok := rec.Latest("db-1"); ok {
		t.Error("db-1 has a deployment though creating it failed")
	}
	web, _ := rec.Latest("web-1")
	if want := []deployments.State{"success"}; !slices.Equal(web.States(), want) {
		t.Errorf("web-1 states %v, want %v", web.States(), want)
	}
	w := warns.all()
	slices.Sort(w) // the instances' workers warn in any order
	if len(w) != 2 || !strings.HasPrefix(w[0], "db-1: ") || !strings.Contains(w[0], "502 Bad Gateway") ||
		!strings.HasPrefix(w[1], "web-1: ") || !strings.Contains(w[1], "GitHub answered 500") {
		t.Errorf("warnings %q, want one naming db-1 and one naming web-1, with their errors", w)
	}
	if ids := o.IDs(); len(ids) != 1 || ids["web-1"] != web.ID {
		t.Errorf("IDs %v", ids)
	}
}

func TestObserverStopsWithoutPermission(t *testing.T) {
	rec := newRecorder(t)
	o, warns := newObserver(t, rec, goal.Switch, nil)
	rec.fail("create web-1", fmt.Errorf("record deployment of web-1 in GitHub: %w (GitHub answered 403 Resource not accessible by integration)", deployments.ErrNoPermission))
	o.Observe(t.Context(), event("web-1", engine.Planned, "switch", nil))
	rec.next(t)
	for deadline := time.Now().Add(5 * time.Second); len(warns.all()) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no warning after the refusal")
		}
	}
	for _, e := range []engine.Event{
		event("db-1", engine.Planned, "switch", nil), event("web-1", engine.Building, "web", nil),
		event("db-1", engine.Building, "db", nil), event("web-1", engine.Failed, "", errors.New("x")), event("db-1", engine.Failed, "", errors.New("y")),
	} {
		o.Observe(t.Context(), e)
	}
	if err := o.Close(time.Second); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	creates := slices.Clone(rec.creates)
	rec.mu.Unlock()
	if len(creates) != 1 || len(rec.Deployments()) != 0 || len(rec.calls) != 0 {
		t.Errorf("creates %q, deployments %v, calls left %d: want no request after the refusal", creates, rec.Deployments(), len(rec.calls))
	}
	w := warns.all()
	if len(w) != 1 || !strings.Contains(w[0], "permissions: deployments: write") || !strings.Contains(w[0], "deployed regardless") {
		t.Errorf("warnings %q, want one naming the permission", w)
	}
}

// active is a fake ActiveLister.
type active struct {
	ids   []int64
	calls []string
}

func (a *active) Active(_ context.Context, env string) ([]int64, error) {
	a.calls = append(a.calls, env)
	return a.ids, nil
}

func TestObserverRetiresEarlierProductionDeployments(t *testing.T) {
	tests := []struct {
		name     string
		instance string
		goal     goal.Goal
		retire   bool
	}{
		{"production switch", "web-1", goal.Switch, true},
		{"production build keeps the running deployment", "web-1", goal.Build, false},
		{"staging relies on auto_inactive", "db-1", goal.Switch, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t)
			var earlier []int64
			for range 2 {
				id, _ := rec.Recorder.Create(t.Context(), requests()[tt.instance])
				_ = rec.Recorder.SetStatus(t.Context(), id, deployments.Status{State: deployments.StateSuccess})
				earlier = append(earlier, id)
			}
			o, warns := newObserver(t, rec, tt.goal, nil)
			lister := &active{}
			o.cfg.Active = lister
			for _, e := range []engine.Event{
				event(tt.instance, engine.Planned, string(tt.goal), nil), event(tt.instance, engine.Built, path, nil),
				event(tt.instance, engine.Activated, "switch", nil),
			} {
				o.Observe(t.Context(), e)
			}
			// The environment's newest deployment is ours, then the earlier ones.
			lister.ids = []int64{3, earlier[1], earlier[0]}
			if err := o.Close(time.Second); err != nil {
				t.Fatal(err)
			}
			if w := warns.all(); len(w) != 0 {
				t.Errorf("warnings %q", w)
			}
			all := rec.Deployments()
			if len(all) != 3 || all[2].States()[len(all[2].States())-1] != deployments.StateSuccess {
				t.Fatalf("deployments %+v", all)
			}
			for _, d := range all[:2] {
				states := d.States()
				if retired := states[len(states)-1] == deployments.StateInactive; retired != tt.retire {
					t.Errorf("earlier deployment %d: states %v, retired %t, want %t", d.ID, states, retired, tt.retire)
				}
				if tt.retire && d.Statuses[len(states)-1].Description != "superseded by deployment 3" {
					t.Errorf("retirement %+v", d.Statuses[len(states)-1])
				}
			}
			if tt.retire != (len(lister.calls) == 1) || (tt.retire && lister.calls[0] != "production/web-1") {
				t.Errorf("Active called for %q", lister.calls)
			}
		})
	}
}

func TestObserverCloseGivesUp(t *testing.T) {
	rec := newRecorder(t)
	rec.hold() // GitHub never answers
	o, warns := newObserver(t, rec, goal.Switch, nil)
	o.Observe(t.Context(), event("web-1", engine.Planned, "switch", nil))
	rec.next(t)
	start := time.Now()
	err := o.Close(50 * time.Millisecond)
	if err != nil {
		t.Errorf("Close = %v; web-1 has no deployment yet, so none is left open", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %s", d)
	}
	if w := warns.all(); len(w) != 0 {
		t.Errorf("warnings %q; Close reports a timeout once", w)
	}
	o.Observe(t.Context(), event("web-1", engine.Building, "web", nil)) // after Close: ignored
}

func TestObserverCloseNamesOpenDeployments(t *testing.T) {
	rec := newRecorder(t)
	o, _ := newObserver(t, rec, goal.Switch, nil)
	o.Observe(t.Context(), event("web-1", engine.Planned, "switch", nil))
	rec.next(t)
	rec.hold()
	o.Observe(t.Context(), event("web-1", engine.Building, "web", nil))
	rec.next(t)
	err := o.Close(50 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "the deployments of web-1 have no final status") {
		t.Errorf("Close = %v", err)
	}
}

func TestObserverEndsUnfinishedDeployments(t *testing.T) {
	rec := newRecorder(t)
	o, _ := newObserver(t, rec, goal.Switch, nil)
	o.Observe(t.Context(), event("web-1", engine.Planned, "switch", nil))
	o.Observe(t.Context(), event("web-1", engine.Building, "web", nil))
	o.Observe(t.Context(), event("web-9", engine.Planned, "switch", nil)) // not planned: not recorded
	if err := o.Close(time.Second); err != nil {
		t.Fatal(err)
	}
	d, _ := rec.Latest("web-1")
	if states := d.States(); states[len(states)-1] != deployments.StateError {
		t.Errorf("states %v: an instance the engine never finished must end in error", states)
	}
	if len(rec.Deployments()) != 1 {
		t.Errorf("deployments %+v", rec.Deployments())
	}
}

type ctxKey struct{}

// ctxChecker fails a call whose context is done or lost the run's values.
type ctxChecker struct {
	*deploymentstest.Recorder
	t *testing.T
}

func (c ctxChecker) check(ctx context.Context) {
	if ctx.Err() != nil || ctx.Value(ctxKey{}) != "run" {
		c.t.Errorf("a request's context: err %v, value %v", ctx.Err(), ctx.Value(ctxKey{}))
	}
}

func (c ctxChecker) Create(ctx context.Context, req deployments.Request) (int64, error) {
	c.check(ctx)
	return c.Recorder.Create(ctx, req)
}

func (c ctxChecker) SetStatus(ctx context.Context, id int64, st deployments.Status) error {
	c.check(ctx)
	return c.Recorder.SetStatus(ctx, id, st)
}

func TestCancelledRunIsStillRecorded(t *testing.T) {
	rec := ctxChecker{deploymentstest.New(t), t}
	o, warns := newObserver(t, rec, goal.Switch, nil)
	ctx, cancel := context.WithCancel(context.WithValue(t.Context(), ctxKey{}, "run"))
	cancel()
	o.Observe(ctx, event("db-1", engine.Planned, "switch", nil))
	o.Observe(ctx, event("db-1", engine.Skipped, "", context.Canceled))
	if err := o.Close(time.Second); err != nil {
		t.Fatal(err)
	}
	d, ok := rec.Latest("db-1")
	if got := d.States(); !ok || !slices.Equal(got, []deployments.State{deployments.StateError}) {
		t.Errorf("db-1's statuses %v, want error", got)
	}
	if w := warns.all(); len(w) != 0 {
		t.Errorf("warnings %q", w)
	}
}
