package deploy

import (
	"reflect"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/inventory"
)

// TestRolloutWaves checks how waves, batches and jump hosts split the
// selected instances.
func TestRolloutWaves(t *testing.T) {
	inv := &inventory.Inventory{
		Systems: map[string]inventory.System{"web": {Tags: []string{"frontend"}}, "edge": {}},
		Instances: map[string]inventory.Instance{
			"web-1": {System: "web", Tags: []string{"canary"}}, "web-2": {System: "web"}, "web-3": {System: "web"},
			"gw":   {System: "edge", SSH: map[string]string{"HostName": "10.0.0.1"}},
			"eu-1": {System: "edge", Tags: []string{"eu"}, SSH: map[string]string{"ProxyJump": "gw"}},
			"eu-2": {System: "edge", Tags: []string{"eu"}, SSH: map[string]string{"ProxyJump": "gw"}},
		},
	}
	w := func(name string, gate bool, names ...string) engine.Wave {
		return engine.Wave{Instances: names, Name: name, Gate: gate}
	}
	tests := []struct {
		name    string
		rollout inventory.Rollout
		want    []engine.Wave
		wantErr string
	}{
		{"no rollout: jump hosts first, no gates", inventory.Rollout{}, []engine.Wave{{Instances: []string{"gw"}}}, ""},
		{"waves, the rest last", inventory.Rollout{Waves: []string{"@canary", "@eu"}}, []engine.Wave{
			w("1/3 @canary", true, "web-1"),
			w("2/3 @eu", true, "eu-1", "eu-2"),
			w("3/3 rest", false, "gw"), w("3/3 rest", true, "web-2", "web-3"),
		}, ""},
		{"an instance in two waves runs in the first", inventory.Rollout{Waves: []string{"web-*", "@frontend,gw"}}, []engine.Wave{
			w("1/3 web-*", true, "web-1", "web-2", "web-3"),
			w("2/3 @frontend,gw", false, "gw"), w("2/3 @frontend,gw", true),
			w("3/3 rest", true, "eu-1", "eu-2"),
		}, ""},
		{"batches of 2", inventory.Rollout{Waves: []string{"web-*"}, Batch: "2"}, []engine.Wave{
			w("1/4 web-* batch 1/2", true, "web-1", "web-2"),
			w("2/4 web-* batch 2/2", true, "web-3"),
			w("3/4 rest batch 1/2", true, "eu-1", "eu-2"),
			w("4/4 rest batch 2/2", false, "gw"), w("4/4 rest batch 2/2", true),
		}, ""},
		{"a percentage, rounded up", inventory.Rollout{Batch: "50%"}, []engine.Wave{
			w("1/2 all batch 1/2", false, "gw"), w("1/2 all batch 1/2", true, "eu-1", "eu-2"),
			w("2/2 all batch 2/2", true, "web-1", "web-2", "web-3"),
		}, ""},
		{"a wave that selects nothing is a typo", inventory.Rollout{Waves: []string{"@canry"}}, nil, `"@canry" selects no instance`},
		{"an empty wave", inventory.Rollout{Waves: []string{""}}, nil, "wave 1 is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RolloutWaves(inv, tt.rollout, true)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("waves\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
	if _, err := RolloutWaves(inv, inventory.Rollout{Waves: []string{"@canry", "*"}}, false); err != nil {
		t.Errorf("with --on, a wave term outside the selection is no error: %v", err)
	}
}

// TestParseWaves checks the command line's and the action's waves and
// batch sizes.
func TestParseWaves(t *testing.T) {
	tests := []struct {
		waves []string
		batch string
		ok    bool
	}{
		{[]string{"@canary", "web-*,db-1", "*"}, "25%", true},
		{nil, "3", true},
		{nil, "100%", true},
		{nil, "0", false},
		{nil, "101%", false},
		{nil, "five", false},
		{[]string{"web-1;reboot"}, "", false},
		{[]string{" "}, "", false},
	}
	for _, tt := range tests {
		if err := ParseWaves(tt.waves, tt.batch); (err == nil) != tt.ok {
			t.Errorf("ParseWaves(%q, %q) = %v, want ok %v", tt.waves, tt.batch, err, tt.ok)
		}
	}
}
