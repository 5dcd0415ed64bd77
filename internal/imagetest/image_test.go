//go:build imagetest

package imagetest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nix-hive/nix-hive/internal/action/actiontest"
	"github.com/nix-hive/nix-hive/internal/githubfake"
	"github.com/nix-hive/nix-hive/internal/lab"
	"github.com/nix-hive/nix-hive/internal/labfleet"
	"github.com/nix-hive/nix-hive/internal/process"
)

// TestMain is also the container's first process: run with enterVar set,
// the test binary enters the container and executes the image's entry
// point instead of running tests.
func TestMain(m *testing.M) {
	if spec := os.Getenv(enterVar); spec != "" {
		enter(spec)
	}
	os.Exit(m.Run())
}

// runnerUID owns the directories GitHub's runner mounts into the
// container (its user on GitHub's hosted runners), while the container
// runs as root.
const runnerUID = 1001

// sha is the commit the runs deploy.
const sha = "0123456789abcdef0123456789abcdef01234567"

// TestImage runs the image's entry point with the action's arguments as
// GitHub runs a container action: it deploys the example fleet to a lab of
// real hosts and records the deployments in the fake GitHub, deploys an
// unpinned hive that must fail before touching a host, and reports the
// time from the container's start to its first log line.
func TestImage(t *testing.T) {
	img := mountImage(t)
	l := lab.NewForTest(t, labfleet.Spec)
	workspace := t.TempDir()
	fleet, err := labfleet.Prepare(t.Context(), &process.Exec{}, l, "../../examples/fleet", workspace)
	if err != nil {
		t.Fatal(err)
	}
	token := "ghs_imageTestTokenThatMustNeverBeLogged01"
	inputs := map[string]string{
		"INPUT_HIVE":               "fleet",
		"INPUT_TARGETS":            "",
		"INPUT_GOAL":               "switch",
		"INPUT_GITHUB-TOKEN":       token,
		"INPUT_SSH-PRIVATE-KEY":    read(t, l.Key),
		"INPUT_SSH-KNOWN-HOSTS":    read(t, l.KnownHosts),
		"INPUT_SIGNING-KEY":        read(t, fleet.SigningKey),
		"INPUT_ENVIRONMENT":        "{environment}/{instance}",
		"INPUT_PARALLEL":           "10",
		"INPUT_DRY-RUN":            "false",
		"INPUT_RECORD-DEPLOYMENTS": "true",
		// The lab is offline: no binary cache but the site's store.
		"INPUT_NIX-CONFIG": "substituters =\nconnect-timeout = 5",
	}
	secrets := []string{token, inputs["INPUT_SSH-PRIVATE-KEY"], inputs["INPUT_SIGNING-KEY"]}

	t.Run("a push deploys every instance", func(t *testing.T) {
		gh := githubfake.New(t, githubfake.WithToken(token))
		r := runAction(t, img, workspace, gh, inputs)
		checkSecrets(t, r.stdout+r.stderr, secrets)
		if r.err != nil {
			t.Fatalf("the action failed: %v", r.err)
		}
		t.Logf("time from the container's start to its first log line: %s", r.firstLine.Round(time.Millisecond))
		var res struct {
			Instances map[string]struct{ Path, Result string } `json:"instances"`
		}
		if err := json.Unmarshal([]byte(r.outputs["results"]), &res); err != nil {
			t.Fatalf("results output %q: %v", r.outputs["results"], err)
		}
		var ids map[string]int64
		if err := json.Unmarshal([]byte(r.outputs["deployments"]), &ids); err != nil {
			t.Fatalf("deployments output %q: %v", r.outputs["deployments"], err)
		}
		for _, n := range labfleet.Instances {
			o := res.Instances[n]
			if o.Result != "activated" || !strings.HasPrefix(o.Path, "/nix/store/") {
				t.Errorf("%s: %+v, want activated", n, o)
				continue
			}
			// The host runs the system the container built.
			got, err := l.Exec(t.Context(), n, "readlink", "/run/current-system")
			if err != nil || strings.TrimSpace(string(got)) != o.Path {
				t.Errorf("%s runs %q (%v), want %s", n, got, err, o.Path)
			}
			sts := gh.Statuses(ids[n])
			if len(sts) == 0 || sts[len(sts)-1].State != "success" || !strings.Contains(sts[len(sts)-1].Description, o.Path) {
				t.Errorf("%s: deployment %d has statuses %+v, want success naming %s last", n, ids[n], sts, o.Path)
			}
		}
		if len(gh.Deployments()) != len(labfleet.Instances) {
			t.Errorf("%d deployments recorded, want %d", len(gh.Deployments()), len(labfleet.Instances))
		}
		for _, d := range gh.Deployments() {
			if d.SHA != sha || d.State != "success" {
				t.Errorf("deployment %d in %s: sha %s, state %s", d.ID, d.Environment, d.SHA, d.State)
			}
		}
		if !strings.Contains(r.summary, "| web-1 | web | ✅ activated |") {
			t.Errorf("the step summary lacks web-1's row:\n%s", r.summary)
		}
		// Nix in the container uses the HOME the entry point gave it, not
		// GitHub's /github/home, which the runner's user owns.
		if strings.Contains(r.stdout+r.stderr, "not owned by you") {
			t.Errorf("nix complained about HOME")
		}
	})

	t.Run("an unpinned hive fails and touches no host", func(t *testing.T) {
		dir := filepath.Join(workspace, "unpinned")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		hive := `{
  systems.web.configuration = { networking.hostName = "web"; };
  instances.web-1 = { system = "web"; ssh = { HostName = "` + l.Hosts["web-1"].Addr + `"; User = "root"; }; };
}
`
		if err := os.WriteFile(filepath.Join(dir, "hive.nix"), []byte(hive), 0o644); err != nil {
			t.Fatal(err)
		}
		before := hostState(t, l, "web-1")
		gh := githubfake.New(t, githubfake.WithToken(token))
		edited := map[string]string{}
		for k, v := range inputs {
			edited[k] = v
		}
		edited["INPUT_HIVE"] = "unpinned"
		r := runAction(t, img, workspace, gh, edited)
		checkSecrets(t, r.stdout+r.stderr, secrets)
		if r.err == nil {
			t.Fatal("the action succeeded with an unpinned hive")
		}
		if after := hostState(t, l, "web-1"); after != before {
			t.Errorf("web-1 changed: %q, then %q", before, after)
		}
		if n := len(gh.Deployments()); n != 0 {
			t.Errorf("%d deployments recorded for a run that must touch no host", n)
		}
		// inventory.Unpinned's message: where, what and how to pin.
		for _, want := range []string{"hive.nix: systems.web.path: <nixpkgs> is not pinned", `"nixpkgs=`} {
			if !strings.Contains(r.stdout+r.stderr, want) {
				t.Errorf("the output does not say %q (is inventory.Unpinned checked before the deployment?)", want)
			}
		}
	})
}

// run is one run of the container.
type run struct {
	err            error
	stdout, stderr string
	outputs        map[string]string
	summary        string
	firstLine      time.Duration
}

// runAction runs the image's entry point with the argument action.yml
// gives it, as GitHub's runner starts a container action, with inputs.
func runAction(t *testing.T, img *image, workspace string, gh *githubfake.Server, inputs map[string]string) *run {
	t.Helper()
	// A new container: its own writable layer. The example's stand-in
	// nixpkgs builds with the machine's static busybox (a real hive's
	// nixpkgs brings its own tools); the image has none, so the runner's
	// goes into the layer.
	layer := t.TempDir()
	copyFile(t, "/usr/bin/busybox", filepath.Join(layer, "upper/usr/bin/busybox"), 0o755)
	home, files, workflow := t.TempDir(), t.TempDir(), t.TempDir()
	for _, d := range []string{home, files, workflow} {
		if err := os.Chown(d, runnerUID, runnerUID); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(workflow, "event.json"),
		[]byte(`{"ref":"refs/heads/main","sender":{"login":"alice"},"head_commit":{"message":"Deploy the fleet"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// The file commands, as the runner names them.
	fileCommands := map[string]string{
		"GITHUB_OUTPUT": "set_output", "GITHUB_STEP_SUMMARY": "step_summary", "GITHUB_ENV": "set_env",
		"GITHUB_PATH": "add_path", "GITHUB_STATE": "save_state",
	}
	env := append([]string(nil), img.Env...)
	add := func(k, v string) { env = append(env, k+"="+v) }
	for k, name := range fileCommands {
		file := name + "_0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e"
		if err := os.WriteFile(filepath.Join(files, file), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		add(k, "/github/file_commands/"+file)
	}
	for k, v := range map[string]string{
		"HOME": "/github/home", "CI": "true", "GITHUB_ACTIONS": "true",
		"GITHUB_WORKSPACE": "/github/workspace", "GITHUB_EVENT_PATH": "/github/workflow/event.json",
		"GITHUB_EVENT_NAME": "push", "GITHUB_REPOSITORY": "acme/fleet", "GITHUB_REPOSITORY_OWNER": "acme",
		"GITHUB_SHA": sha, "GITHUB_REF": "refs/heads/main", "GITHUB_ACTOR": "alice",
		"GITHUB_RUN_ID": "4242", "GITHUB_RUN_ATTEMPT": "1", "GITHUB_JOB": "deploy", "GITHUB_ACTION": "deploy",
		"GITHUB_SERVER_URL": "https://github.example.com", "GITHUB_API_URL": gh.URL(),
		"RUNNER_OS": "Linux", "RUNNER_ARCH": "X64", "RUNNER_NAME": "GitHub Actions 7",
	} {
		add(k, v)
	}
	for k, v := range inputs {
		add(k, v)
	}
	c := &container{
		Image: img.Root, Layer: layer, Workdir: "/github/workspace", Env: env,
		Args: append(append([]string(nil), img.Entrypoint...), "action"),
		Binds: map[string]string{
			workspace: "/github/workspace", home: "/github/home",
			files: "/github/file_commands", workflow: "/github/workflow",
		},
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	first := &firstLine{}
	cmd, err := c.command(ctx, io.MultiWriter(&stdout, first), &stderr)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	first.start = start
	r := &run{err: cmd.Run()}
	r.stdout, r.stderr = stdout.String(), stderr.String()
	r.firstLine = first.after()
	t.Logf("the container ran for %s (%v)\nstdout:\n%s\nstderr:\n%s", time.Since(start).Round(time.Millisecond), r.err, r.stdout, r.stderr)
	output := filepath.Join(files, "set_output_0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e")
	r.outputs = actiontest.ParseOutputs(t, read(t, output), true)
	r.summary = read(t, filepath.Join(files, "step_summary_0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e"))
	return r
}

// firstLine notes when the first complete line is written.
type firstLine struct {
	mu    sync.Mutex
	start time.Time
	at    time.Duration
}

func (f *firstLine) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.at == 0 && bytes.IndexByte(p, '\n') >= 0 {
		f.at = time.Since(f.start)
	}
	return len(p), nil
}

func (f *firstLine) after() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.at
}

// checkSecrets fails the test if a line of a secret shows in the output
// other than in the ::add-mask:: commands that hide it.
func checkSecrets(t *testing.T, output string, secrets []string) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(output))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "::add-mask::") {
			continue
		}
		for _, s := range secrets {
			for _, part := range strings.Split(s, "\n") {
				if len(part) > 8 && strings.Contains(line, part) {
					t.Errorf("a secret shows in the log: %q", line)
				}
			}
		}
	}
}

// hostState is what a deployment would change on a host: its system and
// the activations its systems recorded.
func hostState(t *testing.T, l *lab.Lab, host string) string {
	t.Helper()
	out, err := l.Exec(t.Context(), host, "sh", "-c", "readlink /run/current-system; cat /run/nix-hive-example/activations 2>/dev/null || true")
	if err != nil {
		t.Fatalf("read %s's state: %v", host, err)
	}
	return string(out)
}

func read(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("copy %s: %v: %s", src, err, out)
	}
	if err := os.Chmod(dst, mode); err != nil {
		t.Fatal(err)
	}
}
