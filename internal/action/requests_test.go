package action

import (
	"reflect"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/deployments"
	"github.com/nix-hive/nix-hive/internal/flake"
	"github.com/nix-hive/nix-hive/internal/inventory"
)

func TestRequests(t *testing.T) {
	inv := &inventory.Inventory{Instances: map[string]inventory.Instance{
		"web-1": {System: "web", Environment: "production", URL: "https://web-1.example.org"},
		"db-1":  {System: "db", Environment: "staging"},
		"eu-1":  {System: "edge", Environment: "production"},
	}}
	in := &Inputs{Goal: "switch", Environment: Template{text: DefaultEnvironment}}
	run := &Workflow{SHA: testSHA, Trigger: Trigger{Event: "push", Actor: "alice", Message: strings.Repeat("long message ", 20)}}
	reqs, err := Requests(in, run, inv, []string{"web-1", "db-1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want only the selected 2", len(reqs))
	}
	web := reqs["web-1"]
	want := deployments.Request{
		Instance: "web-1", System: "web", Goal: "switch", Environment: "production/web-1", Ref: testSHA,
		// Not production: "production/web-1" is not GitHub's production
		// environment, so GitHub's auto_inactive retires its earlier
		// deployments (it was true before, and nix-hive retired them).
		EnvironmentURL: "https://web-1.example.org", Production: false, Description: web.Description,
	}
	if !reflect.DeepEqual(web, want) {
		t.Errorf("web-1: %+v\nwant %+v", web, want)
	}
	if d := web.Description; !strings.HasPrefix(d, "nix-hive switch of web-1: push by alice: long message") || len([]rune(d)) > 140 {
		t.Errorf("description %q", d)
	}
	if db := reqs["db-1"]; db.Environment != "staging/db-1" || db.Production || db.EnvironmentURL != "" {
		t.Errorf("db-1: %+v", db)
	}
	in.Environment = Template{text: "{environment}"}
	reqs, _ = Requests(in, run, inv, []string{"web-1", "db-1"})
	if !reqs["web-1"].Production || reqs["db-1"].Production {
		t.Errorf("environment production: %+v, staging: %+v; only the one named production is", reqs["web-1"], reqs["db-1"])
	}
	g := GroupRequest(in, run, "production")
	if g.Environment != "production" || !g.Production || g.Ref != testSHA || !strings.HasPrefix(g.Description, "nix-hive switch of environment production: push by alice") {
		t.Errorf("group request %+v", g)
	}
}

// TestRequestsCarryTheFlake: deployments of a hive from a flake carry the
// flake's locked url, revision and narHash.
func TestRequestsCarryTheFlake(t *testing.T) {
	inv := &inventory.Inventory{
		Instances: map[string]inventory.Instance{"web-1": {System: "web", Environment: "production"}},
		Flake:     &flake.Locked{Ref: flake.Ref{Dir: "/src/fleet", Attr: "nixHive"}, URL: "git+file:///src/fleet?rev=0123abc", Rev: "0123abc", NarHash: "sha256-AAAA"},
	}
	in := &Inputs{Goal: "switch", Environment: Template{text: DefaultEnvironment}}
	reqs, err := Requests(in, &Workflow{SHA: testSHA}, inv, []string{"web-1"})
	if err != nil {
		t.Fatal(err)
	}
	want := deployments.FlakeSource{URL: "git+file:///src/fleet?rev=0123abc", Rev: "0123abc", NarHash: "sha256-AAAA"}
	if got := reqs["web-1"].Flake; got == nil || *got != want {
		t.Errorf("flake %+v, want %+v", got, want)
	}
}

func TestRequestsRejectBadNames(t *testing.T) {
	inv := &inventory.Inventory{Instances: map[string]inventory.Instance{
		"web-1": {System: "web", Environment: ""},
		"web-2": {System: strings.Repeat("s", 300), Environment: "production"},
	}}
	run := &Workflow{SHA: testSHA}
	_, err := Requests(&Inputs{Environment: Template{text: "{environment}"}}, run, inv, []string{"web-1"})
	if err == nil || !strings.Contains(err.Error(), "input environment") || !strings.Contains(err.Error(), "web-1 an empty environment name") {
		t.Errorf("empty name: %v", err)
	}
	_, err = Requests(&Inputs{Environment: Template{text: "{system}"}}, run, inv, []string{"web-2"})
	if err == nil || !strings.Contains(err.Error(), "longer than GitHub's 255 characters") {
		t.Errorf("long name: %v", err)
	}
}
