package deploy

import (
	"reflect"
	"testing"

	"github.com/nix-hive/nix-hive/internal/inventory"
)

// TestJumpHostWaves checks which instances run alone before the hosts
// behind them, from the inventory's ProxyJump chains.
func TestJumpHostWaves(t *testing.T) {
	inst := func(proxyJump string) inventory.Instance {
		ssh := map[string]string{"HostName": "10.0.0.1"}
		if proxyJump != "" {
			ssh["ProxyJump"] = proxyJump
		}
		return inventory.Instance{System: "s", SSH: ssh}
	}
	tests := []struct {
		name      string
		instances map[string]inventory.Instance
		sshHosts  map[string]map[string]string
		want      [][]string
	}{
		{"no jump hosts", map[string]inventory.Instance{"a": inst(""), "b": inst("")}, nil, [][]string{}},
		{"a bastion that is not an instance", map[string]inventory.Instance{"a": inst("bastion")},
			map[string]map[string]string{"bastion": {"HostName": "1.2.3.4"}}, [][]string{}},
		{"an instance behind another", map[string]inventory.Instance{"gw": inst(""), "a": inst("gw"), "b": inst("root@gw:2222")}, nil,
			[][]string{{"gw"}}},
		{"a chain through an sshHosts block", map[string]inventory.Instance{"gw": inst(""), "inner": inst("hop"), "a": inst("inner")},
			map[string]map[string]string{"hop": {"HostName": "1.2.3.4", "ProxyJump": "gw"}}, [][]string{{"gw"}, {"inner"}}},
		{"two hops in one ProxyJump", map[string]inventory.Instance{"gw1": inst(""), "gw2": inst(""), "a": inst("gw1,deploy@gw2")}, nil,
			[][]string{{"gw1"}, {"gw2"}}},
		{"none", map[string]inventory.Instance{"a": inst("none")}, nil, [][]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &inventory.Inventory{Instances: tt.instances, SSHHosts: tt.sshHosts}
			if got := JumpHostWaves(inv); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("waves %v, want %v", got, tt.want)
			}
		})
	}
}
