package deployments

import (
	"slices"
	"testing"

	"github.com/nix-hive/nix-hive/internal/githubfake"
)

func TestActive(t *testing.T) {
	g, s, _ := setup(t, nil)
	ctx := t.Context()
	create := func(env string, states ...State) int64 {
		t.Helper()
		req := web1()
		req.Environment = env
		req.Production = true
		id, err := g.Create(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range states {
			if err := g.SetStatus(ctx, id, Status{State: st, AutoInactive: true}); err != nil {
				t.Fatal(err)
			}
		}
		return id
	}
	// Production deployments: GitHub's auto_inactive leaves them all active.
	first := create("production/web1", StateQueued, StateSuccess)
	create("production/web1", StateFailure)
	third := create("production/web1", StateInProgress, StateSuccess)
	create("production/web1")
	create("production/web2", StateSuccess)

	got, err := g.Active(ctx, "production/web1")
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{third, first}; !slices.Equal(got, want) {
		t.Errorf("Active = %v, want %v", got, want)
	}
	if n := s.Calls(githubfake.ListDeployments); n != 1 {
		t.Errorf("%d list requests, want 1", n)
	}

	none, err := g.Active(ctx, "production/web9")
	if err != nil || len(none) != 0 {
		t.Errorf("Active of an empty environment = %v, %v", none, err)
	}
}
