// Command nix-hive deploys fleets of NixOS machines from a hive.nix and, as
// a GitHub Action, records every instance's deployment in GitHub.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/nix-hive/nix-hive/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	stop()
	if code := cli.ExitCode(err); code != 0 {
		fmt.Fprintf(os.Stderr, "nix-hive: %v\n", err)
		os.Exit(code)
	}
}
