package closure

import (
	"context"
	"fmt"

	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

// Reader reads closures on the runner and, over ssh, on instances, without
// copying anything: only path names and NAR sizes travel.
type Reader struct {
	// Runner runs nix-store and ssh.
	Runner process.Runner
	// SSH is the run's ssh config; needed for Remote only.
	SSH *sshconfig.Config
}

// LocalCommand is the command that reads path's closure on the runner.
func LocalCommand(path string) process.Command {
	return process.Command{Args: []string{"sh", "-c", QueryScript, "nix-hive-closure", path}}
}

// RemoteCommand is the command that reads path's closure on instance.
func (r *Reader) RemoteCommand(instance, path string) process.Command {
	return process.Command{Args: r.SSH.Command(instance, "sh", "-c", QueryScript, "nix-hive-closure", path)}
}

// Local reads path's closure in the runner's store; path must be valid
// there (built or copied).
func (r *Reader) Local(ctx context.Context, path string) (Closure, error) {
	out, err := r.Runner.Run(ctx, LocalCommand(path))
	if err != nil {
		return nil, fmt.Errorf("read the closure of %s on the runner: %w", path, err)
	}
	return Parse(out)
}

// Remote reads path's closure in instance's store.
func (r *Reader) Remote(ctx context.Context, instance, path string) (Closure, error) {
	out, err := r.Runner.Run(ctx, r.RemoteCommand(instance, path))
	if err != nil {
		return nil, fmt.Errorf("read the closure of %s on %s: %w", path, instance, err)
	}
	c, err := Parse(out)
	if err != nil {
		return nil, fmt.Errorf("read the closure of %s on %s: %w", path, instance, err)
	}
	return c, nil
}
