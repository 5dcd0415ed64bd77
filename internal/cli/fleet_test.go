package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestHostCommandsUsage checks the plan, status and rollback command lines
// that are refused before anything is evaluated or any host is touched.
func TestHostCommandsUsage(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		environ []string
		want    string
	}{
		{"plan with parallel 0", []string{"plan", "--parallel", "0"}, nil, "--parallel"},
		{"status with an argument", []string{"status", "web-1"}, nil, `unexpected argument "web-1"`},
		{"status with a bad selector", []string{"status", "--on", "web;rm"}, nil, "web;rm"},
		{"rollback to no id", []string{"rollback", "--to-deployment", "last"}, nil, `--to-deployment "last" is not a deployment id`},
		{"rollback to a deployment without a token", []string{"rollback", "--to-deployment", "42"}, []string{"GITHUB_REPOSITORY=acme/fleet"}, "set GITHUB_TOKEN"},
		{"rollback to a deployment without a repository", []string{"rollback", "--to-deployment", "42"}, []string{"GITHUB_TOKEN=x"}, "--repo OWNER/REPO"},
		{"rollback with a bad policy", []string{"rollback", "--on-activation-failure", "ignore"}, nil, "--on-activation-failure"},
		{"plan with a missing key", []string{"plan", "--ssh-key", "/nonexistent/key"}, nil, "--ssh-key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := Run(context.Background(), tt.args, tt.environ, &stdout, &stderr)
			if ExitCode(err) != 2 || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run(%q) = %v (exit %d), want a usage error with %q", tt.args, err, ExitCode(err), tt.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout: %q", stdout.String())
			}
		})
	}
}
