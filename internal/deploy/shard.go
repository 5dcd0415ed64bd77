package deploy

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/nix-hive/nix-hive/internal/inventory"
)

// Shard is one part of a selection split across runners (--shard K/N):
// part K (from 1) of N. The zero Shard is the whole selection.
type Shard struct{ K, N int }

// ParseShard parses K/N, with 1 <= K <= N; "" is the whole selection.
func ParseShard(s string) (Shard, error) {
	if s == "" {
		return Shard{}, nil
	}
	ks, ns, ok := strings.Cut(s, "/")
	k, err1 := strconv.Atoi(ks)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || k < 1 || k > n {
		return Shard{}, fmt.Errorf("%q is not K/N with 1 <= K <= N (such as 2/4)", s)
	}
	return Shard{K: k, N: n}, nil
}

// String returns the shard as --shard takes it, or "" for the whole.
func (s Shard) String() string {
	if s.N == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.K, s.N)
}

// Select returns the instances of inv (a selection) that are the shard's.
// The split is by store first: all the instances of a store go to one
// shard, so that each store is pushed to by one runner; the instances the
// runner copies to directly are units of one. Units are dealt, largest
// first (then by name), to the shard with the fewest instances so far
// (then the lowest K), so every runner computes the same split from the
// same selection, and the shards partition it exactly.
func (s Shard) Select(inv *inventory.Inventory) []string {
	names := inv.InstanceNames()
	if s.N <= 1 {
		return names
	}
	type unit struct {
		name    string
		members []string
	}
	byStore := map[string]*unit{}
	var units []*unit
	for _, n := range names {
		store := inv.Instances[n].Store
		if store == "" {
			units = append(units, &unit{name: "instance " + n, members: []string{n}})
			continue
		}
		if byStore[store] == nil {
			byStore[store] = &unit{name: "store " + store}
			units = append(units, byStore[store])
		}
		byStore[store].members = append(byStore[store].members, n)
	}
	slices.SortFunc(units, func(a, b *unit) int {
		return cmp.Or(cmp.Compare(len(b.members), len(a.members)), cmp.Compare(a.name, b.name))
	})
	load := make([]int, s.N)
	var out []string
	for _, u := range units {
		least := 0
		for i := range load {
			if load[i] < load[least] {
				least = i
			}
		}
		load[least] += len(u.members)
		if least == s.K-1 {
			out = append(out, u.members...)
		}
	}
	slices.Sort(out)
	return out
}
