package deploymentstest_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/nix-hive/nix-hive/internal/deployments"
	"github.com/nix-hive/nix-hive/internal/deployments/deploymentstest"
)

type recordingTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestRecorder(t *testing.T) {
	r := deploymentstest.New(t)
	id, err := r.Create(t.Context(), deployments.Request{Instance: "web1", Ref: "main"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []deployments.State{deployments.StateQueued, deployments.StateInProgress, deployments.StateSuccess, deployments.StateInactive} {
		if err := r.SetStatus(t.Context(), id, deployments.Status{State: s}); err != nil {
			t.Fatal(err)
		}
	}
	d, ok := r.Latest("web1")
	want := []deployments.State{"queued", "in_progress", "success", "inactive"}
	if !ok || d.ID != id || !slices.Equal(d.States(), want) {
		t.Errorf("got %+v, want states %v", d, want)
	}
	if _, ok := r.Latest("web2"); ok {
		t.Error("found a deployment of web2")
	}

	boom := errors.New("boom")
	r.FailNext(boom)
	if _, err := r.Create(t.Context(), deployments.Request{Instance: "web2", Ref: "main"}); !errors.Is(err, boom) {
		t.Errorf("got %v, want boom", err)
	}
	if n := len(r.Deployments()); n != 1 {
		t.Errorf("%d deployments, want 1", n)
	}
}

func TestRecorderReportsMisuse(t *testing.T) {
	tests := []struct {
		name string
		use  func(r *deploymentstest.Recorder)
	}{
		{"unknown deployment", func(r *deploymentstest.Recorder) {
			_ = r.SetStatus(t.Context(), 5, deployments.Status{State: deployments.StateQueued})
		}},
		{"unknown state", func(r *deploymentstest.Recorder) {
			id, _ := r.Create(t.Context(), deployments.Request{Ref: "main"})
			_ = r.SetStatus(t.Context(), id, deployments.Status{State: "done"})
		}},
		{"no ref", func(r *deploymentstest.Recorder) { _, _ = r.Create(t.Context(), deployments.Request{Instance: "web1"}) }},
		{"status after a final one", func(r *deploymentstest.Recorder) {
			id, _ := r.Create(t.Context(), deployments.Request{Ref: "main"})
			_ = r.SetStatus(t.Context(), id, deployments.Status{State: deployments.StateFailure})
			_ = r.SetStatus(t.Context(), id, deployments.Status{State: deployments.StateInProgress})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := &recordingTB{TB: t}
			tt.use(deploymentstest.New(tb))
			if len(tb.errors) != 1 {
				t.Errorf("reported %q, want one error", tb.errors)
			}
		})
	}
}
