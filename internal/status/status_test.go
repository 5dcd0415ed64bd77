package status

import (
	"errors"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/generation"
	"github.com/nix-hive/nix-hive/internal/goal"
)

func TestCompare(t *testing.T) {
	const a, b = "/nix/store/a-web", "/nix/store/b-web"
	profile := func(running, prof string) generation.Profile {
		return generation.Profile{Current: 2, Running: running, Generations: []generation.Generation{{Number: 1, Path: a}, {Number: 2, Path: prof}}}
	}
	tests := []struct {
		name       string
		exp        Expectation
		prof       generation.Profile
		readErr    error
		wantDrift  bool
		wantReason string
	}{
		{"runs what it should", Expectation{Path: a, Goal: goal.Switch}, profile(a, a), nil, false, ""},
		{"switched out of band", Expectation{Path: a, Goal: goal.Switch, Source: "deployment 4"}, profile(b, b), nil, true, "deployment 4 (switch) says /nix/store/a-web"},
		{"profile moved (manual boot)", Expectation{Path: a, Goal: goal.Switch}, profile(a, b), nil, true, "profile /nix/store/b-web"},
		{"deployed with boot, not rebooted", Expectation{Path: b, Goal: goal.Boot}, profile(a, b), nil, false, ""},
		{"deployed with test", Expectation{Path: b, Goal: goal.Test}, profile(b, a), nil, false, ""},
		{"host gone", Expectation{Path: a}, generation.Profile{}, errors.New("ssh: no route to host"), true, "unreachable: ssh: no route"},
		{"never deployed", Expectation{}, profile(a, a), nil, true, "no successful deployment"},
		{"expectation unknown", Expectation{Err: errors.New("GitHub answered 500")}, profile(a, a), nil, true, "not known: GitHub answered 500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := Compare(tt.exp, tt.prof, tt.readErr)
			if i.Drift != tt.wantDrift || !strings.Contains(i.Reason, tt.wantReason) || i.Reachable != (tt.readErr == nil) {
				t.Errorf("Compare = %+v, want drift %t with %q", i, tt.wantDrift, tt.wantReason)
			}
		})
	}
}

func TestRender(t *testing.T) {
	r := &Result{Instances: map[string]*Instance{
		"web-1": {Expected: "/nix/store/a-web", Running: "/nix/store/a-web", Profile: "/nix/store/a-web", Reachable: true},
		"db-1":  {Expected: "/nix/store/c-db", Drift: true, Reason: "unreachable: ssh\nfailed"},
	}}
	if d := r.Drifted(); len(d) != 1 || d[0] != "db-1" {
		t.Errorf("Drifted = %v", d)
	}
	md := r.Markdown()
	for _, want := range []string{"**1 of 2 instances drifted: db-1**", "| db-1 | :warning: unreachable: ssh failed | `c-db` | `-` | `-` |", "| web-1 | no |"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}
