package githubfake_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/githubfake"
)

func TestValidationRejectsInvalidBodies(t *testing.T) {
	long := strings.Repeat("é", 141)
	tests := []struct {
		name      string
		path      string
		body      string
		wantField string
		wantCode  string
	}{
		{"unknown field", "/repos/acme/fleet/deployments", `{"ref":"main","colour":"blue"}`, "colour", "invalid"},
		{"wrong type", "/repos/acme/fleet/deployments", `{"ref":"main","auto_merge":"false"}`, "auto_merge", "invalid"},
		{"array of strings", "/repos/acme/fleet/deployments", `{"ref":"main","required_contexts":[1]}`, "required_contexts", "invalid"},
		{"payload neither object nor string", "/repos/acme/fleet/deployments", `{"ref":"main","payload":[]}`, "payload", "invalid"},
		{"null for a plain string", "/repos/acme/fleet/deployments", `{"ref":"main","environment":null}`, "environment", "invalid"},
		{"missing ref", "/repos/acme/fleet/deployments", `{"environment":"qa"}`, "ref", "missing_field"},
		{"state outside the enum", "/repos/acme/fleet/deployments/1/statuses", `{"state":"done"}`, "state", "invalid"},
		{"missing state", "/repos/acme/fleet/deployments/1/statuses", `{}`, "state", "missing_field"},
		{"description over 140 characters", "/repos/acme/fleet/deployments/1/statuses", `{"state":"success","description":"` + long + `"}`, "description", "custom"},
		{"not an object", "/repos/acme/fleet/deployments", `"main"`, "", "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := &recordingTB{TB: t}
			s := githubfake.New(tb)
			code, body := send(t, s, http.MethodPost, tt.path, "Bearer "+s.Token(), tt.body)
			if code != http.StatusUnprocessableEntity {
				t.Fatalf("got %d %s, want 422", code, body)
			}
			var answer struct {
				Message          string `json:"message"`
				DocumentationURL string `json:"documentation_url"`
				Errors           []struct{ Resource, Field, Code string }
			}
			if err := json.Unmarshal([]byte(body), &answer); err != nil {
				t.Fatal(err)
			}
			if answer.Message != "Validation Failed" || !strings.HasPrefix(answer.DocumentationURL, "https://docs.github.com/rest/deployments/") ||
				len(answer.Errors) != 1 || answer.Errors[0].Field != tt.wantField || answer.Errors[0].Code != tt.wantCode {
				t.Errorf("got %s, want Validation Failed on field %q code %q", body, tt.wantField, tt.wantCode)
			}
			if got := tb.Errors(); len(got) != 1 || !strings.Contains(got[0], "invalid body") {
				t.Errorf("fake reported %q, want one invalid-body violation", got)
			}
			if len(s.Violations()) != 1 || len(s.Deployments()) != 0 {
				t.Errorf("violations %q, deployments %d", s.Violations(), len(s.Deployments()))
			}
		})
	}
}

func TestValidBodyIsNotAViolation(t *testing.T) {
	s := githubfake.New(t) // any violation fails this test
	code, body := send(t, s, http.MethodPost, "/repos/acme/fleet/deployments", "token "+s.Token(),
		`{"ref":"main","task":"deploy","auto_merge":false,"required_contexts":[],"payload":{"instance":"web1"},
		  "environment":"web1","description":null,"transient_environment":false,"production_environment":true}`)
	if code != http.StatusCreated {
		t.Fatalf("got %d %s, want 201", code, body)
	}
}

func TestUnexpectedRequestsAreReported(t *testing.T) {
	tests := []struct{ method, path string }{
		{http.MethodGet, "/user"},
		{http.MethodPatch, "/repos/acme/fleet/deployments/1"},
		{http.MethodPut, "/repos/acme/fleet/deployments"},
		{http.MethodGet, "/repos/acme/fleet/deployments?colour=blue"},
		{http.MethodGet, "/repos/acme/fleet/actions/runs/1/jobs?filter=newest"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			tb := &recordingTB{TB: t}
			s := githubfake.New(tb)
			code, _ := send(t, s, tt.method, tt.path, "Bearer "+s.Token(), "")
			if code < 400 {
				t.Errorf("got %d, want an error status", code)
			}
			if got := tb.Errors(); len(got) != 1 {
				t.Errorf("fake reported %q, want one violation", got)
			}
		})
	}
}

func TestAuthentication(t *testing.T) {
	tests := []struct {
		auth string
		want int
	}{
		{"", http.StatusUnauthorized},
		{"Bearer wrong", http.StatusUnauthorized},
		{"Basic " + githubfake.DefaultToken, http.StatusUnauthorized},
		{"Bearer " + githubfake.DefaultToken, http.StatusOK},
		{"token " + githubfake.DefaultToken, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.auth, func(t *testing.T) {
			s := githubfake.New(t)
			if code, body := send(t, s, http.MethodGet, "/repos/acme/fleet/deployments", tt.auth, ""); code != tt.want {
				t.Errorf("got %d %s, want %d", code, body, tt.want)
			}
		})
	}
}

func TestWithoutDeploymentsWrite(t *testing.T) {
	s := githubfake.New(t, githubfake.WithoutDeploymentsWrite(), githubfake.WithToken("ro"))
	code, body := send(t, s, http.MethodPost, "/repos/acme/fleet/deployments", "Bearer ro", `{"ref":"main"}`)
	if code != http.StatusForbidden || !strings.Contains(body, "Resource not accessible by integration") {
		t.Errorf("write: got %d %s, want 403 Resource not accessible by integration", code, body)
	}
	if code, _ := send(t, s, http.MethodGet, "/repos/acme/fleet/deployments", "Bearer ro", ""); code != http.StatusOK {
		t.Errorf("read: got %d, want 200", code)
	}
}

func TestBasePath(t *testing.T) {
	tb := &recordingTB{TB: t}
	s := githubfake.New(tb, githubfake.WithBasePath("/api/v3"))
	if !strings.HasSuffix(s.URL(), "/api/v3/") {
		t.Fatalf("URL %s lacks /api/v3/", s.URL())
	}
	if code, _ := send(t, s, http.MethodGet, "/repos/acme/fleet/deployments", "Bearer "+s.Token(), ""); code != http.StatusOK {
		t.Errorf("under the base path: got %d", code)
	}
	root := strings.TrimSuffix(s.URL(), "/api/v3/")
	resp, err := http.Get(root + "/repos/acme/fleet/deployments")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || len(tb.Errors()) != 1 {
		t.Errorf("outside the base path: got %d and %q, want 404 and one violation", resp.StatusCode, tb.Errors())
	}
}
