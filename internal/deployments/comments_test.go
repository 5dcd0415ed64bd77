package deployments

import (
	"context"
	"errors"
	"testing"

	"github.com/nix-hive/nix-hive/internal/githubfake"
)

const marker = "<!-- nix-hive plan -->"

func TestCommentKeepsOne(t *testing.T) {
	g, s, _ := setup(t, nil)
	ctx := context.Background()
	other := s.AddComment("acme", "fleet", 7, "alice", "looks good")
	id, created, err := g.Comment(ctx, 7, marker, marker+"\nfirst plan")
	if err != nil || !created || id == other {
		t.Fatalf("first Comment = %d, %t, %v", id, created, err)
	}
	steps := []struct {
		name, body  string
		wantUpdates int
	}{
		{"a new plan edits the comment", marker + "\nsecond plan", 1},
		{"the same plan sends nothing", marker + "\nsecond plan", 1},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			again, created, err := g.Comment(ctx, 7, marker, st.body)
			if err != nil || created || again != id {
				t.Fatalf("Comment = %d, %t, %v; want %d edited", again, created, err, id)
			}
			if n := s.Calls(githubfake.UpdateComment); n != st.wantUpdates {
				t.Errorf("%d updates, want %d", n, st.wantUpdates)
			}
		})
	}
	comments := s.Comments(7)
	if len(comments) != 2 || comments[1].Body != marker+"\nsecond plan" || comments[0].Body != "looks good" {
		t.Errorf("comments = %+v", comments)
	}
	if n := s.Calls(githubfake.CreateComment); n != 1 {
		t.Errorf("%d comments created, want 1", n)
	}
}

func TestCommentWithReadOnlyToken(t *testing.T) {
	g, s, _ := setup(t, nil, githubfake.WithReadOnlyToken())
	_, _, err := g.Comment(context.Background(), 7, marker, marker+"\nplan")
	if !errors.Is(err, ErrNoCommentPermission) {
		t.Fatalf("error = %v, want ErrNoCommentPermission", err)
	}
	if len(s.Comments(7)) != 0 {
		t.Error("a comment was written")
	}
}

func TestCommentNeedsItsMarker(t *testing.T) {
	g, s, _ := setup(t, nil)
	if _, _, err := g.Comment(context.Background(), 7, marker, "no marker"); err == nil {
		t.Error("a body without the marker was accepted")
	}
	if len(s.Requests()) != 0 {
		t.Error("a request was sent")
	}
}

func TestLookups(t *testing.T) {
	g, _, _ := setup(t, nil)
	ctx := context.Background()
	create := func(path, goal string, st State) int64 {
		id, err := g.Create(ctx, Request{Instance: "web-1", System: "web", StorePath: path, Goal: goal, Environment: "production/web-1", Ref: "main"})
		if err != nil {
			t.Fatal(err)
		}
		if err := g.SetStatus(ctx, id, Status{State: st, AutoInactive: st == StateSuccess && goal != "build"}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	first := create("/nix/store/a-web", "switch", StateSuccess)
	second := create("/nix/store/b-web", "switch", StateSuccess)
	create("/nix/store/c-web", "switch", StateFailure)
	create("/nix/store/d-web", "build", StateSuccess)
	tests := []struct {
		goals    []string
		wantID   int64
		wantPath string
	}{
		{[]string{"switch", "boot", "test"}, second, "/nix/store/b-web"},
		{[]string{"boot"}, 0, ""},
	}
	for _, tt := range tests {
		d, ok, err := g.LastSuccessful(ctx, "production/web-1", "web-1", tt.goals)
		if err != nil || d.ID != tt.wantID || ok != (tt.wantID != 0) || d.Paths["web-1"] != tt.wantPath {
			t.Errorf("LastSuccessful(%v) = %+v, %t, %v; want %d", tt.goals, d, ok, err, tt.wantID)
		}
	}
	d, err := g.Get(ctx, first)
	if err != nil || d.Paths["web-1"] != "/nix/store/a-web" || d.Environment != "production/web-1" || d.Goal != "switch" {
		t.Errorf("Get = %+v, %v", d, err)
	}
	if _, err := g.Get(ctx, 9999); err == nil {
		t.Error("Get of a missing deployment succeeded")
	}
}
