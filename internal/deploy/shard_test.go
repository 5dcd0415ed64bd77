package deploy_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/nix-hive/nix-hive/internal/deploy"
	"github.com/nix-hive/nix-hive/internal/inventory"
)

// shardFleet has n instances, every fourth copied to directly, the others
// spread over stores of uneven sizes.
func shardFleet(n, stores int) *inventory.Inventory {
	inv := &inventory.Inventory{Instances: map[string]inventory.Instance{}}
	for i := range n {
		inst := inventory.Instance{System: "web"}
		if i%4 != 0 && stores > 0 {
			inst.Store = fmt.Sprintf("store-%d", (i*i)%stores)
		}
		inv.Instances[fmt.Sprintf("host-%04d", i)] = inst
	}
	return inv
}

func TestShardsPartitionTheFleet(t *testing.T) {
	tests := []struct{ instances, stores, shards int }{
		{0, 0, 3}, {1, 0, 4}, {24, 3, 1}, {24, 3, 2}, {24, 3, 3}, {24, 3, 5}, {1000, 7, 4}, {1000, 0, 6}, {97, 12, 8},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d instances, %d stores, %d shards", tt.instances, tt.stores, tt.shards), func(t *testing.T) {
			inv := shardFleet(tt.instances, tt.stores)
			seen := map[string]int{}
			storeShard := map[string]int{}
			for k := 1; k <= tt.shards; k++ {
				part := deploy.Shard{K: k, N: tt.shards}.Select(inv)
				if again := (deploy.Shard{K: k, N: tt.shards}).Select(inv); !slices.Equal(part, again) {
					t.Fatalf("shard %d/%d differs between two calls", k, tt.shards)
				}
				for _, n := range part {
					seen[n]++
					if s := inv.Instances[n].Store; s != "" {
						if other, ok := storeShard[s]; ok && other != k {
							t.Errorf("store %s is in shards %d and %d", s, other, k)
						}
						storeShard[s] = k
					}
				}
			}
			if len(seen) != tt.instances {
				t.Errorf("the shards hold %d instances, want %d", len(seen), tt.instances)
			}
			for n, c := range seen {
				if c != 1 {
					t.Errorf("%s is in %d shards", n, c)
				}
			}
		})
	}
}

func TestShardsBalanceDirectInstances(t *testing.T) {
	inv := shardFleet(1000, 0)
	for k := 1; k <= 4; k++ {
		if n := len(deploy.Shard{K: k, N: 4}.Select(inv)); n != 250 {
			t.Errorf("shard %d/4 has %d instances, want 250", k, n)
		}
	}
}

func TestParseShard(t *testing.T) {
	tests := []struct {
		in   string
		want deploy.Shard
		ok   bool
	}{
		{"", deploy.Shard{}, true}, {"1/1", deploy.Shard{K: 1, N: 1}, true}, {"3/4", deploy.Shard{K: 3, N: 4}, true},
		{"0/4", deploy.Shard{}, false}, {"5/4", deploy.Shard{}, false}, {"4", deploy.Shard{}, false}, {"a/b", deploy.Shard{}, false}, {"1/0", deploy.Shard{}, false},
	}
	for _, tt := range tests {
		got, err := deploy.ParseShard(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
