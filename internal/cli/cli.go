// Package cli is nix-hive's command line: it parses the arguments once,
// at the edge, and runs the inventory, build, deploy and action commands.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/nix-hive/nix-hive/internal/action"
	"github.com/nix-hive/nix-hive/internal/deploy"
	"github.com/nix-hive/nix-hive/internal/goal"
	"github.com/nix-hive/nix-hive/internal/status"
)

// ErrUsage is wrapped by errors in the command line or the action's
// inputs.
var ErrUsage = deploy.ErrUsage

// Env is the process environment as a lookup function.
type Env func(key string) string

// EnvFromList makes an Env from KEY=VALUE pairs (os.Environ's form).
func EnvFromList(list []string) Env {
	m := map[string]string{}
	for _, kv := range list {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return func(k string) string { return m[k] }
}

// IO bundles what a command reads and writes.
type IO struct {
	// Stdout carries results (JSON, tables).
	Stdout io.Writer
	// Stderr carries progress and errors.
	Stderr io.Writer
	// Env is the environment.
	Env Env
	// Environ is the environment as a list, passed on to child processes
	// (with secrets removed by the process runner).
	Environ []string
}

const usage = `nix-hive deploys fleets of NixOS machines from a hive.nix.

Usage:
  nix-hive inventory [--hive PATH] [--on SELECTOR]   print the inventory as JSON
  nix-hive deploy    [flags]                         build, push, copy and activate
  nix-hive build     [flags]                         deploy --goal build
  nix-hive plan      [flags]                         what deploying would change, with closure diffs
  nix-hive status    [flags]                         drift: what each host runs against the hive
  nix-hive rollback  [flags]                         back to the previous generation, or --to-deployment ID
  nix-hive action                                    run as the GitHub Action (reads INPUT_*)

Run 'nix-hive COMMAND --help' for a command's flags.
`

// Run runs nix-hive with args (without the program name).
func Run(ctx context.Context, args []string, environ []string, stdout, stderr io.Writer) error {
	std := IO{Stdout: stdout, Stderr: stderr, Env: EnvFromList(environ), Environ: environ}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: no command given", ErrUsage)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	case "inventory":
		return runInventory(ctx, rest, std)
	case "deploy":
		return runDeploy(ctx, "deploy", rest, std, "")
	case "build":
		return runDeploy(ctx, "build", rest, std, goal.Build)
	case "plan":
		return runPlan(ctx, rest, std)
	case "status":
		return runStatus(ctx, rest, std)
	case "rollback":
		return runRollback(ctx, rest, std)
	case "action":
		if len(rest) > 0 {
			return fmt.Errorf("%w: nix-hive action takes no arguments; it reads its inputs from the INPUT_* variables", ErrUsage)
		}
		return action.Run(ctx, std.Env, std.Environ, std.Stdout)
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: unknown command %q", ErrUsage, cmd)
	}
}

// parse parses a command's flags; --help prints them and returns
// flag.ErrHelp.
func parse(fs *flag.FlagSet, args []string, std IO) error {
	fs.SetOutput(std.Stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %w", ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q (flags go before nothing else; see --help)", ErrUsage, fs.Arg(0))
	}
	return nil
}

// ExitCode maps Run's error to the process exit code: 0 success, 1 a
// deployment or evaluation failed, 2 bad usage, 3 drift (status), 130
// cancelled.
func ExitCode(err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, ErrUsage):
		return 2
	case errors.Is(err, context.Canceled):
		return 130
	case errors.Is(err, status.ErrDrift):
		return 3
	default:
		return 1
	}
}
