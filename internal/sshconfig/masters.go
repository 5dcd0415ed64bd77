package sshconfig

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/nix-hive/nix-hive/internal/process"
)

// OpenMasters opens the master connection of each host in order, one at a
// time, so that hosts many connections go through (jump hosts) get one
// master each instead of one per connection racing to become it. A host
// that cannot be reached is left to the commands that need it: they
// report the error where it matters.
func (c *Config) OpenMasters(ctx context.Context, r process.Runner, hosts []string) {
	if c.control == "" {
		return
	}
	for _, h := range hosts {
		args := []string{"ssh", "-F", c.mustFile(h, false), "-o", "LogLevel=ERROR", "-o", "ControlMaster=yes", "-f", "-N", h}
		if _, err := r.Run(ctx, process.Command{Args: args}); err != nil && ctx.Err() != nil {
			return
		}
	}
}

// Close ends the run's master connections (ssh -O exit on each socket)
// and removes the socket directory. It is bounded by its own timeout, so
// that it also runs after ctx was cancelled. A master that does not answer
// has ended already, or is ending (its host went away); one that lives on
// regardless exits by itself after ControlPersist seconds.
func (c *Config) Close(ctx context.Context, r process.Runner) error {
	if c.control == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	entries, err := os.ReadDir(c.control)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("close the ssh master connections: %w", err)
	}
	var g errgroup.Group
	g.SetLimit(16)
	for _, e := range entries {
		sock := filepath.Join(c.control, e.Name())
		g.Go(func() error {
			args := []string{"ssh", "-F", "/dev/null", "-o", "ControlPath=" + sock, "-O", "exit", "nix-hive-master"}
			_, _ = r.Run(ctx, process.Command{Args: args})
			return nil
		})
	}
	_ = g.Wait()
	if err := os.RemoveAll(c.control); err != nil {
		return fmt.Errorf("remove the ssh master connections' directory: %w", err)
	}
	return nil
}
