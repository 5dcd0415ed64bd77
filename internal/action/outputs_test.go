package action

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/action/actiontest"
	"github.com/nix-hive/nix-hive/internal/engine"
)

func TestWriteOutputs(t *testing.T) {
	env := fakeEnv(t, nil)
	a, stdout := newAction(env)
	report := &engine.Report{Instances: map[string]*engine.Outcome{
		"web-1": {System: "web", Path: "/nix/store/aaaa-web", Environment: "production", Result: engine.Activated, Seconds: 2.5},
		"db-1":  {System: "db", Environment: "staging", Result: engine.Failed, Error: "build system db: boom"},
	}}
	if err := WriteOutputs(a, report, map[string]int64{"web-1": 12, "db-1": 13}); err != nil {
		t.Fatal(err)
	}
	if stdout.Len() != 0 {
		t.Errorf("outputs went to the log: %q", stdout)
	}
	data, err := os.ReadFile(env["GITHUB_OUTPUT"])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "results<<") {
		t.Errorf("GITHUB_OUTPUT does not use the heredoc form:\n%s", data)
	}
	outputs := actiontest.ParseOutputs(t, string(data), false)
	var results struct {
		Instances map[string]struct{ System, Path, Environment, Result, Error string } `json:"instances"`
	}
	if err := json.Unmarshal([]byte(outputs["results"]), &results); err != nil {
		t.Fatalf("results output %q: %v", outputs["results"], err)
	}
	if r := results.Instances["web-1"]; r.Result != "activated" || r.Path != "/nix/store/aaaa-web" || results.Instances["db-1"].Error != "build system db: boom" {
		t.Errorf("results %+v", results)
	}
	var ids map[string]int64
	if err := json.Unmarshal([]byte(outputs["deployments"]), &ids); err != nil || ids["web-1"] != 12 || ids["db-1"] != 13 {
		t.Errorf("deployments output %q: %v", outputs["deployments"], err)
	}
}

func TestWriteOutputsEmpty(t *testing.T) {
	env := fakeEnv(t, nil)
	a, _ := newAction(env)
	if err := WriteOutputs(a, nil, nil); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(env["GITHUB_OUTPUT"])
	outputs := actiontest.ParseOutputs(t, string(data), false)
	if outputs["results"] != `{"instances":{}}` || outputs["deployments"] != `{}` {
		t.Errorf("outputs %q", outputs)
	}
}

func TestWriteOutputsFailures(t *testing.T) {
	a, _ := newAction(fakeEnv(t, map[string]string{"GITHUB_OUTPUT": "", "GITHUB_STEP_SUMMARY": ""}))
	if err := WriteOutputs(a, nil, nil); err == nil || !strings.Contains(err.Error(), "GITHUB_OUTPUT is not set") {
		t.Errorf("WriteOutputs without GITHUB_OUTPUT: %v", err)
	}
	if err := WriteSummary(a, "x"); err == nil || !strings.Contains(err.Error(), "GITHUB_STEP_SUMMARY is not set") {
		t.Errorf("WriteSummary without GITHUB_STEP_SUMMARY: %v", err)
	}
	a, _ = newAction(fakeEnv(t, map[string]string{"GITHUB_OUTPUT": "/nonexistent/dir/output"}))
	if err := WriteOutputs(a, nil, nil); err == nil || !strings.Contains(err.Error(), "write the outputs") {
		t.Errorf("WriteOutputs to an unwritable file: %v", err)
	}
}
