// Command demo is the main job of nix-hive's README: it brings up the
// example fleet's lab of real hosts, deploys examples/fleet to it with the
// nix-hive binary given, shows what each host runs, deploys again to show
// that nothing changes, and removes the hosts, also when interrupted.
//
//	go run ./internal/labfleet/demo --nix-hive ./nix-hive --example examples/fleet
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/nix-hive/nix-hive/internal/lab"
	"github.com/nix-hive/nix-hive/internal/labfleet"
	"github.com/nix-hive/nix-hive/internal/process"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	binary := fs.String("nix-hive", "nix-hive", "the nix-hive binary to run")
	example := fs.String("example", "examples/fleet", "the example deployment")
	if err := fs.Parse(args); err != nil {
		return err
	}
	r := &process.Exec{}
	step := func(format string, a ...any) { fmt.Fprintf(out, "\n==> "+format+"\n", a...) }

	step("bringing up %d lab hosts", len(labfleet.Spec.Hosts))
	l, err := lab.New(ctx, r, labfleet.Spec)
	if err != nil {
		return fmt.Errorf("bring up the lab: %w", err)
	}
	defer func() {
		step("removing the lab hosts")
		cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if cerr := l.Close(cctx); cerr != nil && err == nil {
			err = cerr
		}
	}()
	for _, h := range labfleet.Spec.Hosts {
		host := l.Hosts[h.Name]
		where := "public"
		if h.Site != "" {
			where = "site " + h.Site
		}
		fmt.Fprintf(out, "    %-10s %-15s %s\n", host.Name, host.Addr, where)
	}
	work, err := os.MkdirTemp("", "nix-hive-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	fleet, err := labfleet.Prepare(ctx, r, l, *example, work)
	if err != nil {
		return err
	}

	hive := func(args ...string) error {
		full := append(args, "--hive", fleet.Dir)
		if args[0] == "deploy" {
			full = append(full, "--ssh-key", l.Key, "--known-hosts", l.KnownHosts, "--signing-key", fleet.SigningKey)
		}
		fmt.Fprintf(out, "$ nix-hive %s\n", strings.Join(full, " "))
		_, err := r.Run(ctx, process.Command{Args: append([]string{*binary}, full...), Env: []string{labfleet.OfflineNix}, Stdout: out, Stderr: out})
		return err
	}
	return show(ctx, l, out, step, hive)
}

// show runs the demonstration proper on a lab with the example on it:
// the inventory, a deployment, what each host runs, and a deployment that
// changes nothing.
func show(ctx context.Context, l *lab.Lab, out io.Writer, step func(string, ...any), hive func(...string) error) error {
	step("the inventory of the eu site's instances")
	if err := hive("inventory", "--on", "@eu"); err != nil {
		return err
	}
	step("deploying the whole fleet")
	before, _ := l.TxBytes(ctx, "bastion-eu")
	if err := hive("deploy"); err != nil {
		return err
	}
	after, _ := l.TxBytes(ctx, "bastion-eu")
	fmt.Fprintf(out, "\nbytes the runner sent into the eu site for its 3 instances: %d (one closure, through the store)\n", after-before)

	step("what each host runs now")
	for _, name := range labfleet.Instances {
		got, err := l.Exec(ctx, name, "sh", "-c", `printf '%s  %s' "$(readlink /run/current-system)" "$(cat /run/current-system/etc/motd)"`)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "    %-6s %s\n", name, got)
	}
	step("deploying again: every instance is unchanged")
	return hive("deploy")
}
