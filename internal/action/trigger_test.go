package action

import (
	"os"
	"path/filepath"
	"testing"
)

func TestTrigger(t *testing.T) {
	tests := []struct {
		name    string
		event   string
		payload string
		want    string
	}{
		{"push", "push", `{"ref":"refs/heads/main","pusher":{"name":"alice"},"sender":{"login":"alice"},
			"head_commit":{"id":"0123","message":"Raise the web workers\n\nThey ran out."}}`, "push by alice: Raise the web workers"},
		{"workflow_dispatch", "workflow_dispatch", `{"ref":"refs/heads/main","sender":{"login":"bob"},
			"inputs":{"targets":"web-*","goal":"test","dry":false,"empty":""}}`, "workflow_dispatch by bob (dry=false, goal=test, targets=web-*)"},
		{"no payload", "schedule", "", "schedule by alice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			edit := map[string]string{"GITHUB_EVENT_NAME": tt.event}
			if tt.payload != "" {
				path := filepath.Join(t.TempDir(), "event.json")
				if err := os.WriteFile(path, []byte(tt.payload), 0o644); err != nil {
					t.Fatal(err)
				}
				edit["GITHUB_EVENT_PATH"] = path
			}
			_, run, err := Parse(mustAction(fakeEnv(t, edit)))
			if err != nil {
				t.Fatal(err)
			}
			if got := run.Trigger.String(); got != tt.want {
				t.Errorf("trigger %q, want %q", got, tt.want)
			}
		})
	}
}
