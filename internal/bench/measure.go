package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/nix-hive/nix-hive/internal/process"
)

// Result is one method's measurement.
type Result struct {
	// Name names the method.
	Name string
	// Wall is its wall time.
	Wall time.Duration
	// Bytes is what the runner sent through its capped uplink.
	Bytes uint64
	// Evaluations counts the systems nix evaluated.
	Evaluations int
	// Logins counts the ssh logins the hosts accepted from the runner
	// (directly or through a bastion): one handshake each.
	Logins int
}

// measureAll builds the closures once (not measured), then measures each
// method, on wiped hosts where the method starts from fresh ones.
func (b *bench) measureAll(ctx context.Context, out io.Writer) ([]Result, float64, error) {
	fmt.Fprintln(out, "==> building the closures (not measured)")
	paths, err := b.build(ctx, "--no-eval-cache")
	if err != nil {
		return nil, 0, err
	}
	limit, err := b.limitBytes(ctx, paths)
	if err != nil {
		return nil, 0, err
	}
	cache := filepath.Join(b.work, "eval-cache")
	hive := func(ctx context.Context) error {
		_, err := b.nixHive(ctx, b.deployArgs("--eval-cache", cache)...)
		return err
	}
	methods := []struct {
		key, name string
		fresh     bool
		run       func(context.Context) error
	}{
		{"hive", "nix-hive, fresh hosts", true, hive},
		{"hive", "nix-hive, no-op redeploy", false, hive},
		{"sequential", "sequential nix copy + activation", true, func(ctx context.Context) error { return b.baseline(ctx, 1) }},
		{"parallel", fmt.Sprintf("parallel direct copy + activation (%d at once)", b.o.Parallel), true, func(ctx context.Context) error { return b.baseline(ctx, b.o.Parallel) }},
	}
	var results []Result
	for i, m := range methods {
		if !slices.Contains(b.o.Methods, m.key) {
			continue
		}
		b.logName = fmt.Sprintf("%d-%s.log", i+1, m.key)
		if m.fresh {
			if err := b.wipe(ctx); err != nil {
				return nil, 0, err
			}
		}
		fmt.Fprintf(out, "==> %s\n", m.name)
		res, err := b.measure(ctx, m.name, m.run)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", m.name, err)
		}
		fmt.Fprintf(out, "    %s, %.1f MB sent, %d evaluations, %d ssh logins\n", elapsed(res.Wall), float64(res.Bytes)/1e6, res.Evaluations, res.Logins)
		results = append(results, res)
	}
	return results, limit, nil
}

// measure runs f and returns its wall time and what it sent, evaluated
// and logged in.
func (b *bench) measure(ctx context.Context, name string, f func(context.Context) error) (Result, error) {
	bytes0, err := b.sentBytes()
	if err != nil {
		return Result{}, err
	}
	logins0, evals0 := b.logins(), b.evaluations()
	start := time.Now()
	if err := f(ctx); err != nil {
		return Result{}, err
	}
	wall := time.Since(start)
	bytes1, err := b.sentBytes()
	if err != nil {
		return Result{}, err
	}
	return Result{Name: name, Wall: wall, Bytes: bytes1 - bytes0, Evaluations: b.evaluations() - evals0, Logins: b.logins() - logins0}, nil
}

// deployArgs is nix-hive's deploy command line for the fleet.
func (b *bench) deployArgs(extra ...string) []string {
	args := []string{"deploy", "--hive", b.dir, "--json", "--ssh-key", b.lab.Key, "--known-hosts", b.lab.KnownHosts,
		"--signing-key", filepath.Join(b.work, "store.secret"), "--parallel", fmt.Sprint(b.o.Parallel)}
	return append(args, extra...)
}

// nixHive runs nix-hive with args and returns its standard output; its
// log goes to the method's log file, when there is one.
func (b *bench) nixHive(ctx context.Context, args ...string) ([]byte, error) {
	var stderr bytes.Buffer
	var log io.Writer = &stderr
	if b.o.LogDir != "" && b.logName != "" {
		f, err := os.OpenFile(filepath.Join(b.o.LogDir, b.logName), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("open the log: %w", err)
		}
		defer f.Close()
		log = io.MultiWriter(&stderr, &stampWriter{w: f, start: time.Now()})
	}
	out, err := b.r.Run(ctx, process.Command{Args: append([]string{b.o.NixHive}, args...), Env: b.environ, Stderr: log})
	if err != nil {
		return nil, fmt.Errorf("nix-hive %s: %w\n%s", args[0], err, tail(stderr.String(), 3000))
	}
	return out, nil
}

// stampWriter writes each line with the seconds since start before it.
type stampWriter struct {
	w       io.Writer
	start   time.Time
	partial bool
}

func (s *stampWriter) Write(p []byte) (int, error) {
	for _, line := range bytes.SplitAfter(p, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if !s.partial {
			fmt.Fprintf(s.w, "%7.2f ", time.Since(s.start).Seconds())
		}
		if _, err := s.w.Write(line); err != nil {
			return 0, err
		}
		s.partial = line[len(line)-1] != '\n'
	}
	return len(p), nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// build builds every system with nix-hive (goal build) and returns each
// instance's system path.
func (b *bench) build(ctx context.Context, extra ...string) (map[string]string, error) {
	out, err := b.nixHive(ctx, b.deployArgs(append([]string{"--goal", "build"}, extra...)...)...)
	if err != nil {
		return nil, err
	}
	var report struct {
		Instances map[string]struct{ Path string } `json:"instances"`
	}
	if err := json.Unmarshal(out, &report); err != nil {
		return nil, fmt.Errorf("read nix-hive's report: %w", err)
	}
	paths := map[string]string{}
	for n, i := range report.Instances {
		paths[n] = i.Path
	}
	return paths, nil
}

// wipe empties every host's /nix and forgets what it ran: fresh hosts.
func (b *bench) wipe(ctx context.Context) error {
	var g errgroup.Group
	g.SetLimit(8)
	for name := range b.lab.Hosts {
		g.Go(func() error {
			_, err := b.lab.Exec(ctx, name, "sh", "-c", "rm -rf /nix/store /nix/var /run/current-system /run/nix-hive /run/nix-hive-example")
			if err != nil {
				return fmt.Errorf("wipe %s: %w", name, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// evaluations counts the systems evaluated so far.
func (b *bench) evaluations() int {
	data, _ := os.ReadFile(b.counterFile())
	return bytes.Count(data, []byte("\n"))
}

// logins counts the logins every host's sshd accepted from the runner so
// far: on public hosts and bastions all, on site hosts those through the
// site's bastion (the others are instances fetching from their store).
func (b *bench) logins() int {
	n := 0
	for _, h := range b.lab.Hosts {
		data, _ := os.ReadFile(filepath.Join(h.Dir, "sshd.log"))
		from := ""
		if h.Site != "" && !h.Bastion {
			from = " from " + b.lab.Hosts["bastion-"+h.Site].SiteAddr + " "
		}
		for _, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, "Accepted publickey") && strings.Contains(line, from) {
				n++
			}
		}
	}
	return n
}
