// Command fleetbench runs nix-hive's fleet benchmark (internal/bench) on a
// lab of real hosts, as root:
//
//	go run ./internal/bench/fleetbench --nix-hive ./nix-hive
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/nix-hive/nix-hive/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := bench.Run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}
