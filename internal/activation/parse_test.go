package activation

import (
	"reflect"
	"testing"
)

// TestParseReport checks the parsing of the agent's wait output, recorded
// from the agent.
func TestParseReport(t *testing.T) {
	tests := []struct {
		name string
		out  string
		want Report
	}{
		{"running with output", "status=running\nout=activating the configuration...\nout=a=b c\n\noffset=120\n",
			Report{Status: "running", Output: []string{"activating the configuration...", "a=b c"}, Offset: "120"}},
		{"activated, reboot required", "status=activated\nreason=switch-to-configuration switch exited 100: the new system needs a reboot\nreboot=yes\noffset=300\n",
			Report{Status: "activated", Reason: "switch-to-configuration switch exited 100: the new system needs a reboot", Reboot: true, Offset: "300"}},
		{"kept with a warning", "status=activated\nwarning=switch-to-configuration switch exited 4: some units failed\noffset=9\n",
			Report{Status: "activated", Warning: "switch-to-configuration switch exited 4: some units failed", Offset: "9"}},
		{"noise is dropped", "sudo: unable to resolve host web-1\nstatus=busy\n",
			Report{Status: "busy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseReport([]byte(tt.out)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestSplitOutput checks that an activation's log splits at the agent's
// rollback line.
func TestSplitOutput(t *testing.T) {
	lines := []string{"nix-hive: activating", "warning: the following units failed: a.service",
		"nix-hive: rolling back: switch-to-configuration switch exited 4: some units failed", "activating old"}
	own, back := SplitOutput(lines)
	if !reflect.DeepEqual(own, lines[:2]) || !reflect.DeepEqual(back, lines[2:]) {
		t.Errorf("own %q, rollback %q", own, back)
	}
	if own, back := SplitOutput(lines[:2]); len(own) != 2 || back != nil {
		t.Errorf("without a rollback: own %q, rollback %q", own, back)
	}
}
