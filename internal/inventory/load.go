package inventory

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nix-hive/nix-hive/internal/discover"
	"github.com/nix-hive/nix-hive/internal/flake"
	"github.com/nix-hive/nix-hive/internal/nixcmd"
	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

// ErrHiveNotFound is returned when the hive file does not exist.
var ErrHiveNotFound = errors.New("hive file not found")

// ResolveHive turns the --hive argument (a deployment directory or a file)
// into the absolute path of the hive file and the deployment directory.
func ResolveHive(arg string) (file, dir string, err error) {
	if arg == "" {
		arg = "hive.nix"
	}
	abs, err := filepath.Abs(arg)
	if err != nil {
		return "", "", fmt.Errorf("resolve --hive %s: %w", arg, err)
	}
	st, err := os.Stat(abs)
	if err == nil && st.IsDir() {
		abs = filepath.Join(abs, "hive.nix")
		st, err = os.Stat(abs)
	}
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", "", fmt.Errorf("%w: %s; pass --hive with a deployment directory or its hive.nix", ErrHiveNotFound, abs)
		}
		return "", "", fmt.Errorf("read hive file %s: %w", abs, err)
	}
	if st.IsDir() {
		return "", "", fmt.Errorf("%w: %s is a directory", ErrHiveNotFound, abs)
	}
	return abs, filepath.Dir(abs), nil
}

// EvalArgs returns the nix-instantiate command that evaluates the hive file
// into the inventory JSON, given the directory holding hive/*.nix.
func EvalArgs(exprDir, hiveFile, deploymentDir string) []string {
	return []string{
		"nix-instantiate", "--eval", "--strict", "--json",
		filepath.Join(exprDir, "config.nix"),
		"--argstr", "hiveFile", hiveFile,
		"--argstr", "deployment", deploymentDir,
	}
}

// Load evaluates hiveArg (a deployment directory or hive file) with the
// expressions in exprDir (or, for a flake, purely from the locked flake),
// merges the machines its discover sources find with readers (see Merge),
// and returns the validated inventory. Discovered instances pass the same
// checks as hive.nix's, and their ssh options are judged with everyone
// else's.
func Load(ctx context.Context, r process.Runner, exprDir, hiveArg string, readers discover.Readers) (*Inventory, error) {
	if ref, ok, err := flake.Parse(hiveArg); err != nil {
		return nil, err
	} else if ok {
		return checked(ctx, r, exprDir, readers)(evaluateFlake(ctx, r, exprDir, ref))
	}
	file, dir, err := ResolveHive(hiveArg)
	if err != nil {
		return nil, err
	}
	out, err := r.Run(ctx, process.Command{Args: EvalArgs(exprDir, file, dir)})
	if err != nil {
		var ce *process.CommandError
		if errors.As(err, &ce) && ce.ExitCode > 0 {
			return nil, &EvalError{File: file, Message: nixcmd.ErrorMessage(ce.StderrTail), Err: err}
		}
		return nil, fmt.Errorf("evaluate %s: %w", file, err)
	}
	return checked(ctx, r, exprDir, readers)(Decode(out, file))
}

// checked returns the function that merges an evaluated inventory's
// discovered machines, validates it and renders its ssh config, passing an
// evaluation error through.
func checked(ctx context.Context, r process.Runner, exprDir string, readers discover.Readers) func(*Inventory, error) (*Inventory, error) {
	return func(inv *Inventory, err error) (*Inventory, error) {
		if err != nil {
			return nil, err
		}
		if err := inv.Merge(ctx, readers); err != nil {
			return nil, err
		}
		if err := inv.Validate(); err != nil {
			return nil, err
		}
		if err := inv.renderSSHConfig(ctx, r, exprDir); err != nil {
			return nil, err
		}
		return inv, nil
	}
}

// renderSSHConfig renders the inventory's ssh config and lets ssh judge
// it; an error names the hive file and the option's attribute path.
func (inv *Inventory) renderSSHConfig(ctx context.Context, r process.Runner, dir string) error {
	file := filepath.Base(inv.File)
	rendered, err := sshconfig.RenderBlocks(inv.SSHBlocks())
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if err := sshconfig.Check(ctx, r, dir, rendered); err != nil {
		return prefixEach(file, err)
	}
	inv.SSHConfig = rendered.Text
	return nil
}

// prefixEach puts "file: " before each of the joined errors, however
// deeply they are joined.
func prefixEach(file string, err error) error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return fmt.Errorf("%s: %w", file, err)
	}
	var errs []error
	for _, e := range j.Unwrap() {
		errs = append(errs, prefixEach(file, e))
	}
	return errors.Join(errs...)
}

// EvalError is a hive file that Nix could not evaluate: a syntax error, a
// type error or one of hive/*.nix's checks.
type EvalError struct {
	// File is the hive file.
	File string
	// Message is Nix's error text, with its position when it gave one.
	Message string
	// Err is the failed command.
	Err error
}

// Error implements error.
func (e *EvalError) Error() string {
	return fmt.Sprintf("evaluate %s:\n%s", e.File, e.Message)
}

// Unwrap returns the failed command's error.
func (e *EvalError) Unwrap() error { return e.Err }
