package plan

import (
	"errors"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/generation"
)

func TestClassify(t *testing.T) {
	const a, b = "/nix/store/a-web", "/nix/store/b-web"
	profile := func(running, prof string) generation.Profile {
		return generation.Profile{Current: 1, Running: running, Generations: []generation.Generation{{Number: 1, Path: prof}}}
	}
	tests := []struct {
		name        string
		prof        generation.Profile
		readErr     error
		want        State
		wantRunning string
		wantErr     string
	}{
		{"runs the target", profile(b, b), nil, Unchanged, b, ""},
		{"runs another system", profile(a, a), nil, Changed, a, ""},
		{"runs the target, boots another", profile(b, a), nil, Changed, b, ""},
		{"runs nothing yet", generation.Profile{}, nil, New, "", ""},
		{"unreachable", generation.Profile{}, errors.New("ssh: connection refused"), Unknown, "", "reach web-1: ssh: connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := &Instance{Target: b}
			classify(i, "web-1", tt.prof, tt.readErr)
			if i.Plan != tt.want || i.Running != tt.wantRunning || !strings.Contains(i.Error, tt.wantErr) || (tt.wantErr == "") != (i.Error == "") {
				t.Errorf("classify = %+v, want %s running %q", i, tt.want, tt.wantRunning)
			}
			if line := describe(i); !strings.HasPrefix(line, string(tt.want)) {
				t.Errorf("describe = %q", line)
			}
		})
	}
}
