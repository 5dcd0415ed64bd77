package goal

import "testing"

func TestRules(t *testing.T) {
	type rules struct {
		hosts, activates, profile, running, confirm, replaces bool
		rollback                                              Rollback
	}
	tests := []struct {
		goal Goal
		want rules
	}{
		{Build, rules{rollback: RollbackNone}},
		{Push, rules{hosts: true, rollback: RollbackNone}},
		{Switch, rules{hosts: true, activates: true, profile: true, running: true, confirm: true, replaces: true, rollback: RollbackRunning}},
		{Boot, rules{hosts: true, activates: true, profile: true, replaces: true, rollback: RollbackBoot}},
		{Test, rules{hosts: true, activates: true, running: true, confirm: true, replaces: true, rollback: RollbackRunning}},
		{DryActivate, rules{hosts: true, activates: true, rollback: RollbackNone}},
	}
	if len(tests) != len(All()) {
		t.Fatalf("the table covers %d goals, there are %d", len(tests), len(All()))
	}
	for _, tt := range tests {
		g := tt.goal
		got := rules{g.NeedsHosts(), g.Activates(), g.SetsProfile(), g.ChangesRunning(), g.NeedsConfirmation(), g.Replaces(), g.Rollback()}
		if got != tt.want {
			t.Errorf("%s: rules %+v, want %+v", g, got, tt.want)
		}
		if parsed, err := Parse(string(g)); err != nil || parsed != g {
			t.Errorf("Parse(%q) = %q, %v", g, parsed, err)
		}
	}
	if _, err := Parse("reboot"); err == nil {
		t.Error("Parse accepted reboot")
	}
}

func TestUnchanged(t *testing.T) {
	const old, new = "/nix/store/old", "/nix/store/new"
	tests := []struct {
		goal             Goal
		current, profile string
		want             bool
	}{
		{Switch, new, new, true},
		{Switch, new, old, false},
		{Switch, old, new, false},
		{Boot, old, new, true},
		{Boot, new, old, false},
		{Test, new, old, true},
		{Test, old, new, false},
		{DryActivate, new, new, false},
		{Push, new, new, false},
		{Build, new, new, false},
	}
	for _, tt := range tests {
		if got := tt.goal.Unchanged(tt.current, tt.profile, new); got != tt.want {
			t.Errorf("%s with current %s, profile %s: unchanged %t, want %t", tt.goal, tt.current, tt.profile, got, tt.want)
		}
	}
}
