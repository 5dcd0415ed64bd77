package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nix-hive/nix-hive/internal/lab"
	"github.com/nix-hive/nix-hive/internal/process"
)

// Options are the benchmark's settings.
type Options struct {
	// NixHive is the nix-hive binary to measure.
	NixHive string
	// ExampleNixpkgs is examples/fleet/nixpkgs (busybox.nix, nixos/).
	ExampleNixpkgs string
	// Rate is the runner's uplink cap, as tc writes it ("100mbit").
	Rate string
	// Parallel is nix-hive's --parallel, and the parallel copy's.
	Parallel int
	// Methods are the methods to measure: hive, sequential, parallel.
	Methods []string
	// LogDir, if set, receives nix-hive's log of each method, each line
	// with the seconds since the method started.
	LogDir string
}

// Run parses args, brings up the lab, measures every method and writes
// the table to out. The lab is removed at the end, also on failure or
// interruption.
func Run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var o Options
	fs.StringVar(&o.NixHive, "nix-hive", "nix-hive", "the nix-hive binary to measure")
	fs.StringVar(&o.ExampleNixpkgs, "example-nixpkgs", "examples/fleet/nixpkgs", "the example's stand-in nixpkgs")
	fs.StringVar(&o.Rate, "rate", "100mbit", "the runner's uplink cap (tc tbf rate)")
	fs.IntVar(&o.Parallel, "parallel", 10, "instances copied and activated at once, by nix-hive and by the parallel copy")
	methods := fs.String("methods", "hive,sequential,parallel", "the methods to measure, comma-separated")
	fs.StringVar(&o.LogDir, "log", "", "a directory for nix-hive's log of each method, with timestamps")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.Methods = strings.Split(*methods, ",")
	rate, err := parseRate(o.Rate)
	if err != nil {
		return err
	}
	r := &process.Exec{}
	fmt.Fprintf(out, "==> bringing up %d lab hosts\n", len(Spec().Hosts))
	l, err := lab.New(ctx, r, Spec())
	if err != nil {
		return fmt.Errorf("bring up the lab: %w", err)
	}
	defer func() { err = errors.Join(err, l.Close(context.WithoutCancel(ctx))) }()
	b, err := prepare(ctx, r, l, o)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, b.uncap(context.WithoutCancel(ctx))) }()
	results, limit, err := b.measureAll(ctx, out)
	if err != nil {
		return err
	}
	writeTable(out, o, rate, results, limit)
	return nil
}

// parseRate reads a tc rate ("100mbit", "1gbit", "500kbit") in bytes per
// second.
func parseRate(s string) (float64, error) {
	units := map[string]float64{"gbit": 1e9, "mbit": 1e6, "kbit": 1e3, "bit": 1}
	for _, u := range []string{"gbit", "mbit", "kbit", "bit"} {
		if n, ok := strings.CutSuffix(s, u); ok {
			v, err := strconv.ParseFloat(n, 64)
			if err != nil || v <= 0 {
				break
			}
			return v * units[u] / 8, nil
		}
	}
	return 0, fmt.Errorf("--rate %q: want a rate such as 100mbit", s)
}

// bench is a prepared benchmark: the lab, the fleet and the measuring
// instruments.
type bench struct {
	r       process.Runner
	lab     *lab.Lab
	o       Options
	dir     string   // the deployment
	work    string   // keys, wrappers, caches
	ifb     string   // the device that caps the runner's uplink
	environ []string // nix-hive's environment: the counting wrapper first in PATH
	logName string   // the current method's log file in Options.LogDir
}

// prepare writes the fleet, its signing key and the evaluation counter,
// and caps the runner's uplink.
func prepare(ctx context.Context, r process.Runner, l *lab.Lab, o Options) (*bench, error) {
	b := &bench{r: r, lab: l, o: o, work: filepath.Join(l.Dir, "bench"), ifb: fmt.Sprintf("nhb%d", l.Slot)}
	b.dir = filepath.Join(b.work, "fleet")
	if err := os.MkdirAll(filepath.Join(b.work, "bin"), 0o755); err != nil {
		return nil, fmt.Errorf("prepare the benchmark: %w", err)
	}
	secret, public := filepath.Join(b.work, "store.secret"), filepath.Join(b.work, "store.public")
	if _, err := r.Run(ctx, process.Command{Args: []string{"nix-store", "--generate-binary-cache-key", "bench-store", secret, public}}); err != nil {
		return nil, fmt.Errorf("make the stores' signing key: %w", err)
	}
	key, err := os.ReadFile(public)
	if err != nil {
		return nil, fmt.Errorf("read the stores' public key: %w", err)
	}
	if err := writeFleet(ctx, r, b.dir, o.ExampleNixpkgs, "", strings.TrimSpace(string(key)), l); err != nil {
		return nil, err
	}
	if err := b.writeCounter(); err != nil {
		return nil, err
	}
	return b, b.capUplink(ctx)
}

// writeCounter puts a nix-instantiate first in nix-hive's PATH that
// counts the evaluations of systems (system.nix) and runs the real one.
func (b *bench) writeCounter() error {
	real, err := lookPath("nix-instantiate")
	if err != nil {
		return err
	}
	script := fmt.Sprintf("#!/bin/sh\ncase \" $* \" in *system.nix\\ *) echo >> %s ;; esac\nexec %s \"$@\"\n",
		process.Quote(b.counterFile()), process.Quote(real))
	if err := os.WriteFile(filepath.Join(b.work, "bin", "nix-instantiate"), []byte(script), 0o755); err != nil {
		return fmt.Errorf("write the evaluation counter: %w", err)
	}
	b.environ = append(os.Environ(), "PATH="+filepath.Join(b.work, "bin")+":"+os.Getenv("PATH"), "NIX_CONFIG=substituters =")
	return nil
}

func (b *bench) counterFile() string { return filepath.Join(b.work, "evaluations") }

// lookPath finds a program in PATH.
func lookPath(name string) (string, error) {
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("find %s in PATH", name)
}

// capUplink sends everything the runner sends to any lab host through
// one device capped at the rate (an ifb with tbf, fed by every uplink).
func (b *bench) capUplink(ctx context.Context) error {
	cmds := [][]string{
		{"ip", "link", "add", b.ifb, "type", "ifb"},
		{"ip", "link", "set", b.ifb, "up"},
		{"tc", "qdisc", "add", "dev", b.ifb, "root", "tbf", "rate", b.o.Rate, "burst", "256kb", "latency", "400ms"},
	}
	for _, h := range b.lab.Hosts {
		if h.Uplink == "" {
			continue
		}
		cmds = append(cmds, []string{"tc", "qdisc", "add", "dev", h.Uplink, "clsact"},
			[]string{"tc", "filter", "add", "dev", h.Uplink, "egress", "protocol", "all", "u32", "match", "u32", "0", "0",
				"action", "mirred", "egress", "redirect", "dev", b.ifb})
	}
	for _, c := range cmds {
		if _, err := b.r.Run(ctx, process.Command{Args: c}); err != nil {
			return fmt.Errorf("cap the runner's uplink: %w", err)
		}
	}
	return nil
}

// uncap removes the cap's device (the uplinks go with the lab).
func (b *bench) uncap(ctx context.Context) error {
	if _, err := b.r.Run(ctx, process.Command{Args: []string{"ip", "link", "del", b.ifb}}); err != nil {
		return fmt.Errorf("remove the uplink cap: %w", err)
	}
	return nil
}

// sentBytes is how many bytes the runner has sent through the cap.
func (b *bench) sentBytes() (uint64, error) {
	data, err := os.ReadFile(filepath.Join("/sys/class/net", b.ifb, "statistics", "tx_bytes"))
	if err != nil {
		return 0, fmt.Errorf("read the bytes sent: %w", err)
	}
	return strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
}

// elapsed is a helper for the table: seconds with two decimals.
func elapsed(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
