// Package generation reads a host's system profile generations over ssh,
// read-only, and picks the one a rollback goes back to: the newest
// generation before the profile's current one that holds another system,
// as `nixos-rebuild --rollback` goes back one generation. The parser is a
// pure function.
package generation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

// ListScript is the constant shell text that prints the system profile's
// generation link, each generation's number and system, and the running
// system, as key=value lines. It changes nothing and needs no root.
const ListScript = `d=/nix/var/nix/profiles; printf 'profile=%s\n' "$(readlink "$d/system" 2>/dev/null)"; ` +
	`for l in "$d"/system-*-link; do [ -L "$l" ] || continue; n=${l##*/system-}; ` +
	`printf 'generation=%s %s\n' "${n%-link}" "$(readlink -f "$l")"; done; ` +
	`printf 'current=%s\n' "$(readlink -f /run/current-system 2>/dev/null)"`

// Generation is one system profile generation.
type Generation struct {
	// Number is the generation's number.
	Number int
	// Path is the system it holds.
	Path string
}

// Profile is a host's system profile.
type Profile struct {
	// Current is the generation the profile points at; 0 when none.
	Current int
	// Generations are every generation, oldest first.
	Generations []Generation
	// Running is where /run/current-system points ("" when nowhere).
	Running string
}

// Parse reads ListScript's output.
func Parse(out []byte) (Profile, error) {
	var p Profile
	for _, line := range strings.Split(string(out), "\n") {
		key, value, _ := strings.Cut(line, "=")
		switch key {
		case "profile":
			if value == "" {
				continue
			}
			n, err := linkNumber(value)
			if err != nil {
				return Profile{}, err
			}
			p.Current = n
		case "generation":
			num, path, _ := strings.Cut(value, " ")
			n, err := strconv.Atoi(num)
			if err != nil {
				return Profile{}, fmt.Errorf("generation %q is not a number", num)
			}
			p.Generations = append(p.Generations, Generation{Number: n, Path: path})
		case "current":
			p.Running = value
		}
	}
	slices.SortFunc(p.Generations, func(a, b Generation) int { return a.Number - b.Number })
	return p, nil
}

// linkNumber reads the generation number of a profile link target
// ("system-42-link").
func linkNumber(link string) (int, error) {
	name := link[strings.LastIndex(link, "/")+1:]
	num, ok := strings.CutPrefix(name, "system-")
	num, ok2 := strings.CutSuffix(num, "-link")
	n, err := strconv.Atoi(num)
	if !ok || !ok2 || err != nil {
		return 0, fmt.Errorf("the system profile points at %q, not a generation", link)
	}
	return n, nil
}

// ErrNoPrevious is wrapped by Previous's error when there is nothing to go
// back to.
var ErrNoPrevious = errors.New("no previous generation")

// Previous is the generation a rollback goes back to: the newest one
// before the profile's current generation whose system differs from it.
func (p Profile) Previous() (Generation, error) {
	current, ok := p.generation(p.Current)
	if !ok {
		return Generation{}, fmt.Errorf("%w: the system profile points at no generation", ErrNoPrevious)
	}
	for _, g := range slices.Backward(p.Generations) {
		if g.Number < current.Number && g.Path != current.Path && g.Path != "" {
			return g, nil
		}
	}
	return Generation{}, fmt.Errorf("%w: generation %d (%s) is the oldest with its system", ErrNoPrevious, current.Number, current.Path)
}

func (p Profile) generation(n int) (Generation, bool) {
	for _, g := range p.Generations {
		if g.Number == n {
			return g, true
		}
	}
	return Generation{}, false
}

// Has reports whether one of the generations holds path.
func (p Profile) Has(path string) bool {
	return slices.ContainsFunc(p.Generations, func(g Generation) bool { return g.Path == path })
}

// Reader reads profiles over ssh.
type Reader struct {
	// Runner runs ssh.
	Runner process.Runner
	// SSH is the run's ssh config.
	SSH *sshconfig.Config
}

// Command is the ssh command that lists instance's generations.
func (r *Reader) Command(instance string) process.Command {
	return process.Command{Args: r.SSH.Command(instance, "sh", "-c", ListScript)}
}

// Read reads instance's system profile.
func (r *Reader) Read(ctx context.Context, instance string) (Profile, error) {
	out, err := r.Runner.Run(ctx, r.Command(instance))
	if err != nil {
		return Profile{}, fmt.Errorf("read the system generations of %s: %w", instance, err)
	}
	p, err := Parse(out)
	if err != nil {
		return Profile{}, fmt.Errorf("read the system generations of %s: %w", instance, err)
	}
	return p, nil
}

// validScript prints "valid" when the store path $1 is valid in the
// host's store, "invalid" otherwise.
const validScript = `if nix-store --check-validity "$1" 2>/dev/null; then echo valid; else echo invalid; fi`

// Valid reports whether path is in instance's store.
func (r *Reader) Valid(ctx context.Context, instance, path string) (bool, error) {
	out, err := r.Runner.Run(ctx, process.Command{Args: r.SSH.Command(instance, "sh", "-c", validScript, "nix-hive-valid", path)})
	if err != nil {
		return false, fmt.Errorf("check whether %s has %s: %w", instance, path, err)
	}
	return strings.TrimSpace(string(out)) == "valid", nil
}

// ProfilePath is the system the profile points at; "" when none.
func (p Profile) ProfilePath() string {
	g, _ := p.generation(p.Current)
	return g.Path
}
