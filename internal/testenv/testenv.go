// Package testenv holds what tests need to know about the machine they run
// on: it stops a test whose programs are missing, failing it in CI (where
// .ci/run installs them, so a missing one is a broken CI) and skipping it
// elsewhere.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// RequireTools fails the test when CI is set and one of tools is not in
// PATH, and skips it otherwise.
func RequireTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is required in CI (scripts/install-prerequisites installs it): %v", tool, err)
			}
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
}
