package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/nix-hive/nix-hive/internal/action/actiontest"
	"github.com/nix-hive/nix-hive/internal/testenv"
)

// actionRun is one run of `nix-hive action` as the runner starts a
// container action: INPUT_* (hyphens kept) and GITHUB_* variables, files
// for the outputs and the step summary.
type actionRun struct {
	env     map[string]string
	stdout  bytes.Buffer
	stderr  bytes.Buffer
	outputs map[string]string
	summary string
	err     error
}

// actionEnv returns the variables of a run in workspace: edit adds or, with
// an empty value, removes variables.
func actionEnv(t *testing.T, workspace string, edit map[string]string) map[string]string {
	t.Helper()
	files := t.TempDir()
	env := map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_REPOSITORY":   "acme/fleet",
		"GITHUB_SHA":          "0123456789abcdef0123456789abcdef01234567",
		"GITHUB_RUN_ID":       "4242",
		"GITHUB_RUN_ATTEMPT":  "1",
		"GITHUB_SERVER_URL":   "https://github.example.com",
		"GITHUB_API_URL":      "https://api.github.example.com",
		"GITHUB_WORKSPACE":    workspace,
		"GITHUB_EVENT_NAME":   "push",
		"GITHUB_ACTOR":        "alice",
		"GITHUB_JOB":          "deploy",
		"RUNNER_NAME":         "GitHub Actions 7",
		"GITHUB_OUTPUT":       filepath.Join(files, "output"),
		"GITHUB_STEP_SUMMARY": filepath.Join(files, "summary"),
		"GITHUB_EVENT_PATH":   filepath.Join(files, "event.json"),
	}
	return actiontest.Edit(env, edit)
}

// runAction runs `nix-hive action` with env on top of base (KEY=VALUE).
func runActionCmd(t *testing.T, base []string, env map[string]string) *actionRun {
	t.Helper()
	return runActionCmdContext(context.Background(), t, base, env, nil)
}

// runActionCmdContext is runActionCmd with a context, and with tap, if set,
// also receiving the action's standard output as it is written.
func runActionCmdContext(ctx context.Context, t *testing.T, base []string, env map[string]string, tap io.Writer) *actionRun {
	t.Helper()
	r := &actionRun{env: env}
	environ := append([]string(nil), base...)
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		environ = append(environ, k+"="+env[k])
	}
	var stdout io.Writer = &r.stdout
	if tap != nil {
		stdout = io.MultiWriter(&r.stdout, tap)
	}
	r.err = Run(ctx, []string{"action"}, environ, stdout, &r.stderr)
	if data, err := os.ReadFile(env["GITHUB_OUTPUT"]); err == nil {
		r.outputs = actiontest.ParseOutputs(t, string(data), true)
	}
	if data, err := os.ReadFile(env["GITHUB_STEP_SUMMARY"]); err == nil {
		r.summary = string(data)
	}
	t.Logf("nix-hive action: %v\nstdout:\n%s\nstderr:\n%s", r.err, r.stdout.String(), r.stderr.String())
	return r
}

// checkSecrets fails the test if a line of a secret shows anywhere but in
// the ::add-mask:: commands that hide it, and checks that those come
// before anything else on stdout.
func (r *actionRun) checkSecrets(t *testing.T, secrets ...string) {
	t.Helper()
	stdout := r.stdout.String()
	var logged []string
	masks := true
	for _, line := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(line, "::add-mask::") {
			if !masks {
				t.Errorf("add-mask after other output: %q", line)
			}
			continue
		}
		masks = false
		logged = append(logged, line)
	}
	places := map[string]string{
		"stdout": strings.Join(logged, "\n"), "stderr": r.stderr.String(), "summary": r.summary,
		"outputs": strings.Join(mapValues(r.outputs), "\n"),
	}
	if r.err != nil {
		places["error"] = r.err.Error()
	}
	for _, secret := range secrets {
		for _, line := range strings.Split(secret, "\n") {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			if !strings.Contains(stdout, "::add-mask::"+line+"\n") {
				t.Errorf("secret line %.12q… is not masked", line)
			}
			for place, text := range places {
				if strings.Contains(text, line) {
					t.Errorf("secret line %.12q… appears in %s", line, place)
				}
			}
		}
	}
}

// hasLine reports whether a line of text starts with prefix and contains s.
func hasLine(text, prefix, s string) bool {
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, prefix) && strings.Contains(line, s) {
			return true
		}
	}
	return false
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// testKey is a private key in OpenSSH's format, without a passphrase; it
// logs in nowhere.
const testKey = `-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACBxrDyL6HMHvaYbg0Pk0Zb3BTzUPuHk3vwSGYm7SJBc9wAAAJhUrBpHVKwa
RwAAAAtzc2gtZWQyNTUxOQAAACBxrDyL6HMHvaYbg0Pk0Zb3BTzUPuHk3vwSGYm7SJBc9w
AAAEBr8VkQGTrRqF3zbmKHxIIYB6b7x54g5yYBYQIB7YXTtHGsPIvocwe9phuDQ+TRlvcF
PNQ+4eTe/BIZibtIkFz3AAAAEXRlc3RAbml4LWhpdmUudGVzdAECAwQ=
-----END OPENSSH PRIVATE KEY-----`

// testSigningKey is a made-up nix secret key whose public half is the
// testdata fleet's stores.eu.publicKey (its last 32 bytes).
const testSigningKey = "cache-eu:ZmFrZS1zaWduaW5nLWtleS1tYXRlcmlhbC0zMmJ5dGV0ZXN0a2V5dGVzdGtleXRlc3RrZXl0ZXN0a2V5dGVzdA=="

func TestActionRejectsBadInputs(t *testing.T) {
	workspace := t.TempDir()
	if err := os.WriteFile(filepath.Join(workspace, "hive.nix"), []byte("{ }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	good := map[string]string{
		"INPUT_GITHUB-TOKEN": "ghs_secretTokenForTheActionTest", "INPUT_SSH-PRIVATE-KEY": testKey, "INPUT_SIGNING-KEY": testSigningKey,
	}
	tests := []struct {
		name string
		edit map[string]string
		want []string
	}{
		{"goal", map[string]string{"INPUT_GOAL": "reboot"}, []string{"input goal"}},
		{"parallel", map[string]string{"INPUT_PARALLEL": "0"}, []string{"input parallel"}},
		{"booleans", map[string]string{"INPUT_DRY-RUN": "yes", "INPUT_RECORD-DEPLOYMENTS": "no"}, []string{"input dry-run", "input record-deployments"}},
		{"environment", map[string]string{"INPUT_ENVIRONMENT": "{env}/{instance}"}, []string{"input environment", "{env}"}},
		{"ssh key", map[string]string{"INPUT_SSH-PRIVATE-KEY": "not-a-key-but-a-secret"}, []string{"input ssh-private-key"}},
		{"token", map[string]string{"INPUT_GITHUB-TOKEN": ""}, []string{"input github-token"}},
		{"repository and commit", map[string]string{"GITHUB_REPOSITORY": "", "GITHUB_SHA": ""}, []string{"GITHUB_REPOSITORY", "GITHUB_SHA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			edit := map[string]string{}
			for k, v := range good {
				edit[k] = v
			}
			for k, v := range tt.edit {
				edit[k] = v
			}
			r := runActionCmd(t, nil, actionEnv(t, workspace, edit))
			if ExitCode(r.err) != 2 {
				t.Errorf("exit code %d (%v), want 2", ExitCode(r.err), r.err)
			}
			for _, want := range tt.want {
				if r.err == nil || !strings.Contains(r.err.Error(), want) {
					t.Errorf("error %v does not name %q", r.err, want)
				}
				if !hasLine(r.stdout.String(), "::error::", want) {
					t.Errorf("no error annotation naming %q", want)
				}
			}
			if r.outputs["results"] != `{"instances":{}}` || r.outputs["deployments"] != "{}" {
				t.Errorf("outputs %q", r.outputs)
			}
			if !strings.Contains(r.summary, "nix-hive did not start") {
				t.Errorf("summary %q", r.summary)
			}
			r.checkSecrets(t, edit["INPUT_GITHUB-TOKEN"], edit["INPUT_SSH-PRIVATE-KEY"], edit["INPUT_SIGNING-KEY"])
		})
	}
}

func TestActionTakesNoArguments(t *testing.T) {
	err := Run(context.Background(), []string{"action", "--goal", "boot"}, nil, &bytes.Buffer{}, &bytes.Buffer{})
	if ExitCode(err) != 2 || !strings.Contains(err.Error(), "reads its inputs from the INPUT_* variables") {
		t.Errorf("error %v", err)
	}
}

// TestActionDryRun runs the whole action, nix evaluation included, as a
// dry run: no host is reached and no deployment recorded.
func TestActionDryRun(t *testing.T) {
	testenv.RequireTools(t, "nix-instantiate")
	fleet, err := filepath.Abs("../inventory/testdata")
	if err != nil {
		t.Fatal(err)
	}
	env := actionEnv(t, fleet, map[string]string{
		"INPUT_HIVE": "fleet", "INPUT_TARGETS": "web-*", "INPUT_DRY-RUN": "true", "INPUT_GOAL": "switch",
		"INPUT_GITHUB-TOKEN": "ghs_secretTokenForTheActionTest", "INPUT_SIGNING-KEY": testSigningKey,
		"INPUT_NIX-CONFIG": "connect-timeout = 3",
	})
	r := runActionCmd(t, os.Environ(), env)
	if r.err != nil {
		t.Fatal(r.err)
	}
	out := r.stdout.String()
	for _, want := range []string{
		"::group::nix-hive: inputs\n", "::endgroup::\n", "::group::nix-hive: switch\n",
		"deployments are not recorded in GitHub", "web-1: activated (switch, dry run)", "store sign --recursive --key-file",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if strings.Contains(out, "record deployments in GitHub") {
		t.Error("a dry run recorded deployments")
	}
	var results struct {
		Instances map[string]struct{ Result string } `json:"instances"`
	}
	if err := json.Unmarshal([]byte(r.outputs["results"]), &results); err != nil {
		t.Fatalf("results output %q: %v", r.outputs["results"], err)
	}
	if len(results.Instances) != 3 || results.Instances["web-3"].Result != "activated" || r.outputs["deployments"] != "{}" {
		t.Errorf("outputs %q", r.outputs)
	}
	for _, want := range []string{"**Dry run:**", "| web-2 | web | ✅ activated |", "production/web-2 (not recorded)"} {
		if !strings.Contains(r.summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.summary)
		}
	}
	r.checkSecrets(t, "ghs_secretTokenForTheActionTest", testSigningKey)
}

func TestActionEvaluationFailure(t *testing.T) {
	testenv.RequireTools(t, "nix-instantiate")
	workspace := t.TempDir()
	if err := os.WriteFile(filepath.Join(workspace, "hive.nix"), []byte("{ instances = ; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := actionEnv(t, workspace, map[string]string{"INPUT_GOAL": "build", "INPUT_RECORD-DEPLOYMENTS": "false"})
	r := runActionCmd(t, os.Environ(), env)
	if ExitCode(r.err) != 1 {
		t.Errorf("exit code %d (%v), want 1", ExitCode(r.err), r.err)
	}
	if !strings.Contains(r.summary, "nix-hive stopped before deploying anything") || r.outputs["results"] != `{"instances":{}}` {
		t.Errorf("summary %q, outputs %q", r.summary, r.outputs)
	}
}
