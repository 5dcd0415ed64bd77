package sshconfig

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/nix-hive/nix-hive/internal/process"
)

// ErrRejected is wrapped by Check's error when ssh rejects the config.
var ErrRejected = errors.New("ssh rejects it")

// checkHost is the alias Check asks ssh about; ssh reads (and judges) the
// whole file whichever host it is asked about.
const checkHost = "nix-hive-config-check"

// Check lets ssh judge the rendered config: `ssh -G` reads a copy of it in
// which every block applies, so that it rejects unknown keywords and every
// value it cannot use, in one process for the whole fleet. Each line ssh
// complains about is reported with the hive.nix attribute it came from.
// The copy is written into dir and removed.
func Check(ctx context.Context, r process.Runner, dir string, rendered Rendered) error {
	path := filepath.Join(dir, "ssh_config.check")
	if err := os.WriteFile(path, []byte(rendered.checkText), 0o600); err != nil {
		return fmt.Errorf("check the ssh config: %w", err)
	}
	defer os.Remove(path)
	_, err := r.Run(ctx, process.Command{Args: []string{"ssh", "-G", "-F", path, checkHost}})
	var ce *process.CommandError
	if err == nil || !errors.As(err, &ce) || ce.ExitCode <= 0 {
		if err != nil {
			return fmt.Errorf("check the ssh config with ssh -G: %w", err)
		}
		return nil
	}
	return Complaints(ce.StderrTail, rendered)
}

var complaint = regexp.MustCompile(`^(?:.*?) line (\d+): (.*)$`)

// Complaints turns ssh's complaints about a config ("FILE line 12: Bad
// configuration option: prot") into errors naming the hive.nix attribute
// of each line; what it cannot place is reported as ssh said it.
func Complaints(stderr string, rendered Rendered) error {
	var errs []error
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		m := complaint.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		what := strings.TrimSuffix(m[2], ".")
		if where, ok := rendered.Origins[n]; ok {
			errs = append(errs, fmt.Errorf("%s: %w: %s", where, ErrRejected, what))
		} else {
			errs = append(errs, fmt.Errorf("ssh config line %d: %w: %s", n, ErrRejected, what))
		}
	}
	if len(errs) == 0 {
		return fmt.Errorf("%w: %s", ErrRejected, strings.TrimSpace(stderr))
	}
	return errors.Join(errs...)
}
