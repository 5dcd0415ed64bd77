package lab

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestForeignLinks checks how a lab sees that a lab of another mount
// namespace (with its own slot locks) uses a slot: by that slot's uplinks
// in the network namespace they share.
func TestForeignLinks(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"lo", "eth0", "nhl1u0", "nhl1u3", "nhl10u0", "nhl2s1"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for n, want := range map[int][]string{0: nil, 1: {"nhl1u0", "nhl1u3"}, 2: nil, 10: {"nhl10u0"}} {
		if got := foreignLinks(dir, n); !slices.Equal(got, want) {
			t.Errorf("slot %d: %q, want %q", n, got, want)
		}
	}
}

// TestClaimNames checks that a slot's names are held once per network
// namespace, and free again once released.
func TestClaimNames(t *testing.T) {
	const n = 250 // a slot no lab of a test takes first
	first, err := claimNames(n)
	if err != nil || first == nil {
		t.Fatalf("claimNames(%d) = %v, %v", n, first, err)
	}
	if second, err := claimNames(n); second != nil || err != nil {
		t.Errorf("claimed twice: %v, %v", second, err)
	}
	first.Close()
	again, err := claimNames(n)
	if err != nil || again == nil {
		t.Fatalf("after release: %v, %v", again, err)
	}
	again.Close()
}
