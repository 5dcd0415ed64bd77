package deploy_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nix-hive/nix-hive/internal/cli"
	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/lab"
	"github.com/nix-hive/nix-hive/internal/labfleet"
)

// TestRolloutOnLab deploys the example fleet in waves with health checks,
// keys and reboots, on real hosts.
func TestRolloutOnLab(t *testing.T) {
	f := newFleet(t)
	first, err := f.deploy()
	if err != nil {
		t.Fatalf("first deployment: %v", err)
	}
	old := map[string]string{}
	for _, n := range everyInstance {
		old[n] = first.Instances[n].Path
	}

	t.Run("a failing health check in the second wave rolls it back and skips the third", func(t *testing.T) {
		f.setVersion(2)
		defer f.systemAttrs("db", `healthChecks.ready = { command = [ "sh" "-c" "if [ -e /run/db-broken ]; then echo 'db: replication is broken'; exit 1; fi" ]; retries = 2; period = 1; timeout = 5; };`)()
		f.on("db-1", "touch", "/run/db-broken")
		defer f.on("db-1", "rm", "-f", "/run/db-broken")
		r, table, err := f.deployTable("--wave", "web-1", "--wave", "db-1,web-2", "--wave", "@eu")
		if !errors.Is(err, engine.ErrFailed) {
			t.Fatalf("error = %v, want ErrFailed (a non-zero exit)", err)
		}
		want := map[string][2]string{ // result, wave
			"web-1": {"activated", "1/3 web-1"}, "web-2": {"activated", "2/3 db-1,web-2"},
			"db-1": {"rolled-back", "2/3 db-1,web-2"},
			"eu-1": {"skipped", "3/3 @eu"}, "eu-2": {"skipped", "3/3 @eu"}, "eu-3": {"skipped", "3/3 @eu"},
		}
		for n, w := range want {
			o := r.Instances[n]
			if o.Result != w[0] || o.Wave != w[1] {
				t.Errorf("%s: %s in wave %q (%s), want %s in wave %q", n, o.Result, o.Wave, o.Error, w[0], w[1])
			}
			current, profile := f.running(n)
			if moved := current != old[n]; current != profile || moved != (w[0] == "activated") {
				t.Errorf("%s runs %s (profile %s); it ran %s before", n, current, profile, old[n])
			}
		}
		if e := r.Instances["db-1"].Error; !strings.Contains(e, "health check ready") || !strings.Contains(e, "db: replication is broken") {
			t.Errorf("db-1's error does not name the check and show its output: %s", e)
		}
		if e := r.Instances["eu-1"].Error; !strings.Contains(e, "wave 2/3 db-1,web-2 failed") {
			t.Errorf("eu-1's error does not say which wave failed: %s", e)
		}
		for _, w := range []string{"WAVE", "1/3 web-1", "2/3 db-1,web-2", "3/3 @eu"} {
			if !strings.Contains(table, w) {
				t.Errorf("the summary table does not show %q:\n%s", w, table)
			}
		}
	})

	t.Run("--rollback-wave puts the failed wave back", func(t *testing.T) {
		f.setVersion(9)
		defer f.systemAttrs("db", `healthChecks.ready = { command = [ "test" "!" "-e" "/run/db-broken" ]; retries = 1; };`)()
		f.on("db-1", "touch", "/run/db-broken")
		defer f.on("db-1", "rm", "-f", "/run/db-broken")
		before := map[string]string{}
		for _, n := range []string{"web-2", "db-1"} {
			before[n], _ = f.running(n)
		}
		r, err := f.deploy("--on", "web-2,db-1", "--wave", "web-2,db-1", "--rollback-wave")
		if !errors.Is(err, engine.ErrFailed) {
			t.Fatalf("error = %v, want ErrFailed", err)
		}
		for _, n := range []string{"web-2", "db-1"} {
			o := r.Instances[n]
			current, profile := f.running(n)
			if o.Result != "rolled-back" || current != before[n] || profile != before[n] {
				t.Errorf("%s: %s (%s), runs %s (profile %s), want rolled back to %s", n, o.Result, o.Error, current, profile, before[n])
			}
		}
		if e := r.Instances["web-2"].Error; !strings.Contains(e, "--rollback-wave") {
			t.Errorf("web-2's error does not say why it was rolled back: %s", e)
		}
	})

	t.Run("HTTP checks through the bastion", func(t *testing.T) {
		f.setVersion(3)
		defer f.systemAttrs("edge", `healthChecks.site = { http = { port = 8080; path = "/cgi-bin/health"; }; retries = 2; period = 1; timeout = 5; };`)()
		f.serve("eu-1", "200 OK", "all good")
		f.serve("eu-2", "503 Service Unavailable", "service down: no database")
		r, err := f.deploy("--on", "eu-1,eu-2")
		if !errors.Is(err, engine.ErrFailed) {
			t.Fatalf("error = %v, want ErrFailed", err)
		}
		if o := r.Instances["eu-1"]; o.Result != "activated" {
			t.Errorf("eu-1 (healthy, behind the bastion): %s %s", o.Result, o.Error)
		}
		o := r.Instances["eu-2"]
		if o.Result != "rolled-back" || !strings.Contains(o.Error, "503 Service Unavailable") || !strings.Contains(o.Error, "service down: no database") {
			t.Errorf("eu-2 (service down): %s, error without the response: %s", o.Result, o.Error)
		}
		if current, _ := f.running("eu-2"); current == o.Path {
			t.Errorf("eu-2 still runs the system whose check failed")
		}
	})

	t.Run("a key from an environment variable", func(t *testing.T) {
		f.setVersion(4)
		defer f.systemAttrs("web", `keys.api-token = { env = "NIX_HIVE_LAB_TOKEN"; user = "`+lab.User+`"; group = "`+lab.User+`"; permissions = "0440"; };`)()
		before := len(f.activations("web-1"))
		_, log, err := f.deployEnv(nil, "--on", "web-1")
		if err == nil || !strings.Contains(log+err.Error(), "NIX_HIVE_LAB_TOKEN is not set") || len(f.activations("web-1")) != before {
			t.Fatalf("a missing key source: error %v; want one naming the variable, before any host is touched", err)
		}
		secret := "lab-secret-" + rand.Text()
		scan := startScan(t, secret)
		r, log, err := f.deployEnv([]string{"NIX_HIVE_LAB_TOKEN=" + secret}, "--on", "web-1")
		leaks, sawUpload := scan()
		if err != nil {
			t.Fatalf("deploy with a key: %v", err)
		}
		if got := f.on("web-1", "stat", "-c", "%U %G %a", "/run/keys/api-token"); got != lab.User+" "+lab.User+" 440" {
			t.Errorf("the key's owner, group and mode: %q", got)
		}
		if got := f.on("web-1", "cat", "/run/keys/api-token"); got != secret {
			t.Errorf("the key's content is %q", got)
		}
		if strings.Contains(log, secret) || strings.Contains(r.raw, secret) {
			t.Error("the key is in nix-hive's output")
		}
		if !sawUpload {
			t.Error("the scan never saw the upload running")
		}
		for _, l := range leaks {
			t.Errorf("the key is in %s", l)
		}
		for _, where := range []string{"runner", "web-1"} {
			var out []byte
			if where == "runner" {
				out, _ = exec.Command("grep", "-rlF", secret, "/nix/store").Output()
			} else {
				out, _ = f.lab.Exec(context.Background(), "web-1", "sh", "-c", "grep -rlF \"$1\" /nix/store; true", "sh", secret)
			}
			if len(bytes.TrimSpace(out)) > 0 {
				t.Errorf("the key is in the Nix store of the %s: %s", where, out)
			}
		}
	})

	t.Run("reboot waits for the new boot and reports the running system", func(t *testing.T) {
		f.setVersion(5)
		defer f.systemAttrs("web", `healthChecks.booted = { command = [ "test" "-e" "/run/booted-system" ]; };`)()
		boot := f.bootID("web-2")
		r, log, err := f.deployEnv(nil, "--on", "web-2", "--goal", "boot", "--reboot", "--reboot-timeout", "60s")
		if err != nil {
			t.Fatalf("deploy --goal boot --reboot: %v", err)
		}
		o := r.Instances["web-2"]
		current, profile := f.running("web-2")
		if o.Result != "activated" || current != o.Path || profile != o.Path || f.bootID("web-2") == boot {
			t.Errorf("web-2: %s (%s), runs %s, profile %s, boot id %s (was %s); want the new system after a new boot",
				o.Result, o.Error, current, profile, f.bootID("web-2"), boot)
		}
		if !strings.Contains(log, "rebooted into "+o.Path) || !strings.Contains(log, "health check booted passed") {
			t.Errorf("the log does not show the reboot and the checks after it")
		}
	})

	t.Run("a switch that needs a reboot reboots with --reboot", func(t *testing.T) {
		f.setVersion(6)
		defer f.configure("web", "switchExitCode = 100;")()
		r, _, err := f.deployEnv(nil, "--on", "web-2", "--reboot", "--reboot-timeout", "60s")
		if err != nil {
			t.Fatalf("deploy --reboot: %v", err)
		}
		o := r.Instances["web-2"]
		if current, _ := f.running("web-2"); o.Result != "activated" || o.RebootRequired || current != o.Path {
			t.Errorf("web-2: %s, rebootRequired %v, runs %s; want the new system %s", o.Result, o.RebootRequired, current, o.Path)
		}
	})

	t.Run("a host that does not come back in time fails", func(t *testing.T) {
		f.setVersion(7)
		if err := f.lab.SetBootDelay("web-1", 2*time.Minute); err != nil {
			t.Fatal(err)
		}
		r, _, err := f.deployEnv(nil, "--on", "web-1", "--goal", "boot", "--reboot", "--reboot-timeout", "5s")
		o := r.Instances["web-1"]
		if !errors.Is(err, engine.ErrFailed) || o.Result != "failed" || !strings.Contains(o.Error, "did not come back") || !strings.Contains(o.Error, "5s") {
			t.Errorf("web-1: %s: %s (run error %v); want failed, not back within 5s", o.Result, o.Error, err)
		}
	})
}

// systemAttrs adds attributes to a system's entry in hive.nix and returns
// the function that restores it.
func (f *fleet) systemAttrs(system, attrs string) func() {
	f.t.Helper()
	path := filepath.Join(f.dir, "hive.nix")
	src, err := os.ReadFile(path)
	if err != nil {
		f.t.Fatal(err)
	}
	marker := "configuration = ./systems/" + system + ".nix;"
	if !strings.Contains(string(src), marker) {
		f.t.Fatalf("hive.nix has no system %s", system)
	}
	f.write("hive.nix", strings.Replace(string(src), marker, attrs+" "+marker, 1))
	return func() { f.write("hive.nix", string(src)) }
}

// serve starts an HTTP service on port 8080 of a host whose
// /cgi-bin/health answers with status and body (test constants).
func (f *fleet) serve(host, status, body string) {
	f.t.Helper()
	script := "#!/bin/sh\nprintf 'Status: " + status + "\\r\\nContent-Type: text/plain\\r\\n\\r\\n" + body + "\\n'\n"
	f.on(host, "sh", "-c", `mkdir -p /run/www/cgi-bin && printf '%s' "$1" >/run/www/cgi-bin/health &&
		chmod +x /run/www/cgi-bin/health && busybox httpd -p 8080 -h /run/www`, "sh", script)
}

// deployEnv runs `nix-hive deploy --json` with extra environment
// variables and returns the report (with its raw JSON), the log and the
// error.
func (f *fleet) deployEnv(env []string, args ...string) (rawReport, string, error) {
	f.t.Helper()
	var stdout, stderr bytes.Buffer
	err := cli.Run(context.Background(), f.args(args...), append(labfleet.Environ(), env...), &stdout, &stderr)
	f.t.Logf("nix-hive %s:\n%s", strings.Join(args, " "), stderr.String())
	var r rawReport
	if stdout.Len() > 0 {
		if jerr := json.Unmarshal(stdout.Bytes(), &r.report); jerr != nil {
			f.t.Fatalf("--json output does not parse: %v\n%s", jerr, stdout.String())
		}
	}
	r.raw = stdout.String()
	return r, stderr.String(), err
}

// deployTable runs `nix-hive deploy` with args, printing the table, and
// returns the report (from a second, JSON rendering is not possible, so
// the instances come from the log's final states), the table and the
// error.
func (f *fleet) deployTable(args ...string) (report, string, error) {
	f.t.Helper()
	var stdout, stderr bytes.Buffer
	base := f.args(args...)
	base = append(base[:0:0], base...)
	for i, a := range base {
		if a == "--json" {
			base = append(base[:i], base[i+1:]...)
			break
		}
	}
	err := cli.Run(context.Background(), base, labfleet.Environ(), &stdout, &stderr)
	f.t.Logf("nix-hive %s:\n%s\n%s", strings.Join(args, " "), stderr.String(), stdout.String())
	return parseTable(f.t, stdout.String(), stderr.String()), stdout.String(), err
}

// rawReport is a report and its JSON text.
type rawReport struct {
	report
	raw string
}

// parseTable reads the final table (WAVE INSTANCE SYSTEM RESULT SECONDS
// ERROR) and the whole errors after it into a report.
func parseTable(t testing.TB, table, errs string) report {
	var r report
	r.Instances = map[string]instanceReport{}
	for _, line := range strings.Split(table, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 6 || fields[0] == "WAVE" {
			continue
		}
		wave := fields[0] + " " + fields[1]
		name, result := fields[2], fields[4]
		if _, err := strconv.ParseFloat(fields[5], 64); err != nil {
			t.Fatalf("a table line does not parse: %q", line)
		}
		r.Instances[name] = instanceReport{Result: result, Wave: wave, Error: errorOf(errs, name)}
	}
	return r
}

// errorOf returns an instance's whole error from the errors nix-hive
// prints after the table ("NAME (RESULT):" and indented lines).
func errorOf(errs, name string) string {
	_, rest, ok := strings.Cut(errs, "\n"+name+" (")
	if !ok {
		return ""
	}
	var lines []string
	for _, line := range strings.Split(rest, "\n")[1:] {
		if !strings.HasPrefix(line, "  ") {
			break
		}
		lines = append(lines, strings.TrimPrefix(line, "  "))
	}
	return strings.Join(lines, "\n")
}

func (f *fleet) bootID(host string) string {
	f.t.Helper()
	id, err := f.lab.BootID(host)
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

// startScan reads every process's arguments and every ssh's environment
// (but this test's own) until the returned function is called, which reports where
// secret was seen and whether a key upload (nix-hive-key) was running
// during one of the scans.
func startScan(t *testing.T, secret string) func() (leaks []string, sawUpload bool) {
	t.Helper()
	stop := make(chan struct{})
	var mu sync.Mutex
	found := map[string]bool{}
	saw := false
	var wg sync.WaitGroup
	self := strconv.Itoa(os.Getpid())
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			dirs, _ := filepath.Glob("/proc/[0-9]*")
			for _, d := range dirs {
				if filepath.Base(d) == self {
					continue
				}
				cmdline, err := os.ReadFile(filepath.Join(d, "cmdline"))
				if err != nil {
					continue
				}
				// Every program's arguments; the environment of ssh talking
				// to the hosts (the hive's evaluation and ssh -G judging its
				// ssh config run before nix-hive knows which variables hold
				// keys, and inherit nix-hive's).
				environ := []byte(nil)
				if bytes.HasPrefix(cmdline, []byte("ssh\x00")) && !bytes.Contains(cmdline, []byte("\x00-G\x00")) {
					environ, _ = os.ReadFile(filepath.Join(d, "environ"))
				}
				mu.Lock()
				for file, data := range map[string][]byte{"cmdline": cmdline, "environ": environ} {
					if bytes.Contains(data, []byte(secret)) {
						found[file+" of "+strings.ReplaceAll(string(cmdline[:min(len(cmdline), 120)]), "\x00", " ")] = true
					}
				}
				if bytes.Contains(cmdline, []byte("nix-hive-key")) {
					saw = true
				}
				mu.Unlock()
			}
		}
	})
	return func() ([]string, bool) {
		close(stop)
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		var leaks []string
		for l := range found {
			leaks = append(leaks, l)
		}
		return leaks, saw
	}
}
