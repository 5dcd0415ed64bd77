package engine

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/goal"
	"github.com/nix-hive/nix-hive/internal/inventory"
)

// TestWaves checks that the instances of a wave all end before the next
// wave starts, that names outside the selection are ignored and that the
// rest run last.
func TestWaves(t *testing.T) {
	tests := []struct {
		name  string
		waves [][]string
		first []string // the instances that must end first, in order
	}{
		{"no waves", nil, nil},
		{"one jump host", [][]string{{"host-0003"}}, []string{"host-0003"}},
		{"a chain of jump hosts", [][]string{{"host-0005"}, {"host-0001"}}, []string{"host-0005", "host-0001"}},
		{"unknown and repeated names", [][]string{{"nope", "host-0002"}, {"host-0002"}}, []string{"host-0002"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := fleetInventory(8, 2, 1)
			f := newFakeStages(t, inv)
			e := &Engine{Stages: f.stages(), Parallel: 8}
			if tt.waves != nil {
				e.Waves = func(*inventory.Inventory) []Wave {
					var out []Wave
					for _, w := range tt.waves {
						out = append(out, Wave{Instances: w})
					}
					return out
				}
			}
			report, err := e.Run(context.Background(), inv)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.order) != 8 {
				t.Fatalf("%d activations ended, want 8: %v", len(f.order), f.order)
			}
			if got := f.order[:len(tt.first)]; !slices.Equal(got, tt.first) {
				t.Errorf("activations ended in the order %v, want %v first", f.order, tt.first)
			}
			for _, n := range inv.InstanceNames() {
				if r := report.Instances[n].Result; r != Activated {
					t.Errorf("%s: %s", n, r)
				}
			}
		})
	}
}

// TestRebootRequiredIsReported checks that an activation whose system
// needs a reboot is activated, and says so in the event, the table and
// the JSON report.
func TestRebootRequiredIsReported(t *testing.T) {
	inv := fleetInventory(2, 1, 1)
	f := newFakeStages(t, inv)
	f.reboot["host-0001"] = true
	rec := &recorder{}
	report, err := (&Engine{Stages: f.stages(), Goal: goal.Switch, Observers: []Observer{rec}}).Run(context.Background(), inv)
	if err != nil {
		t.Fatal(err)
	}
	if o := report.Instances["host-0001"]; o.Result != Activated || !o.RebootRequired {
		t.Errorf("host-0001: %+v, want activated with a reboot required", o)
	}
	if report.Instances["host-0000"].RebootRequired {
		t.Error("host-0000 needs no reboot")
	}
	var lines []string
	for _, e := range rec.events {
		lines = append(lines, e.String())
	}
	if !slices.Contains(lines, "host-0001: activated (switch) [reboot required]") {
		t.Errorf("no event line says a reboot is required:\n%s", strings.Join(lines, "\n"))
	}
	data, _ := json.Marshal(report)
	if !strings.Contains(string(data), `"rebootRequired":true`) || strings.Count(string(data), "rebootRequired") != 1 {
		t.Errorf("JSON report: %s", data)
	}
	var table strings.Builder
	report.WriteTable(&table)
	if !strings.Contains(table.String(), "reboot required") {
		t.Errorf("table:\n%s", table.String())
	}
}
