package plan

import (
	"bytes"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/closure"
)

func testResult() *Result {
	d := &closure.Diff{Changes: []closure.Change{{Name: "hello", Kind: closure.Upgraded, Before: []string{"2.10"}, After: []string{"2.12"}}}}
	return &Result{Instances: map[string]*Instance{
		"web-1": {Plan: Changed, System: "web", Running: "/nix/store/a-web", Target: "/nix/store/b-web", Diff: d},
		"web-2": {Plan: Changed, System: "web", Running: "/nix/store/a-web", Target: "/nix/store/b-web", Diff: d},
		"web-3": {Plan: Changed, System: "web", Running: "/nix/store/z-web", Target: "/nix/store/b-web", Diff: d},
		"db-1":  {Plan: Unchanged, System: "db", Running: "/nix/store/c-db", Target: "/nix/store/c-db"},
		"db-2":  {Plan: Unknown, System: "db", Target: "/nix/store/c-db", Error: "reach db-2: ssh: connect to host\nrefused"},
	}}
}

func TestMarkdown(t *testing.T) {
	md := testResult().Markdown()
	for _, want := range []string{
		"**3 changed, 1 unknown, 1 unchanged**",
		"| web-1 | web | changed | `a-web` → `b-web` |",
		"| db-1 | db | unchanged | `c-db` |",
		":warning: **db-2**: reach db-2: ssh: connect to host refused",
		"<summary>web-1, web-2: 1 package(s) change</summary>",
		"<summary>web-3: 1 package(s) change</summary>",
		"hello: 2.10 → 2.12",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Count(md, "hello: 2.10") != 2 {
		t.Errorf("the shared diff is not shown once per group:\n%s", md)
	}
}

func TestWriteText(t *testing.T) {
	var b bytes.Buffer
	if err := testResult().WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"web-1     web     changed    /nix/store/a-web  /nix/store/b-web", "web-1 (changed):\n  hello: 2.10 → 2.12", "plan: 3 changed, 1 unknown, 1 unchanged"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
	if got := (&Result{Instances: map[string]*Instance{}}).Headline(); got != "no instance selected" {
		t.Errorf("empty headline %q", got)
	}
}
