package processtest

import (
	"context"
	"testing"

	"github.com/nix-hive/nix-hive/internal/process"
)

func TestFakeFailsOnUnexpected(t *testing.T) {
	f := New(t)
	f.Expect([]string{"nix", "build"}, "ok", nil)
	if out, err := f.Run(context.Background(), process.Command{Args: []string{"nix", "build", "x"}}); err != nil || string(out) != "ok" {
		t.Errorf("expected call: %q, %v", out, err)
	}
	if _, err := f.Run(context.Background(), process.Command{Args: []string{"ssh", "host"}}); err == nil {
		t.Error("unexpected call did not fail")
	}
	if u := f.Unused(); len(u) != 0 {
		t.Errorf("unused = %v", u)
	}
}
