// Package health runs a system's health checks against an instance after
// activation: command checks run on the host over ssh (success is exit
// code 0), HTTP checks are made from the runner through an ssh forward
// (`ssh -W host:port INSTANCE`) with the run's ssh config, so a host behind
// a ProxyJump bastion is checked the way it is deployed. Each check is
// tried up to its retries, a period apart, each attempt bounded by its
// timeout; the first check that fails for good fails the instance, with
// its output.
package health

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nix-hive/nix-hive/internal/ctxtime"
	"github.com/nix-hive/nix-hive/internal/engine"
	"github.com/nix-hive/nix-hive/internal/inventory"
	"github.com/nix-hive/nix-hive/internal/process"
	"github.com/nix-hive/nix-hive/internal/sshconfig"
)

// Checker runs the health checks of the inventory's systems.
type Checker struct {
	// Runner runs ssh.
	Runner process.Runner
	// SSH is the run's ssh config.
	SSH *sshconfig.Config
	// Inventory holds the checks (HealthChecks) and the instances.
	Inventory *inventory.Inventory
	// Log returns the writer for an instance's log lines; nil discards.
	Log func(instance string) io.Writer
	// Sleep pauses between attempts; nil means ctxtime.Sleep.
	Sleep func(ctx context.Context, d time.Duration) error
}

var _ engine.Checker = (*Checker)(nil)

// Budget is the longest the checks of a system may take: every attempt
// of every check timing out, with the pauses between them.
func Budget(checks map[string]inventory.HealthCheck) time.Duration {
	var d time.Duration
	for _, c := range checks {
		d += time.Duration(c.Retries*c.Timeout+(c.Retries-1)*c.Period) * time.Second
	}
	return d
}

// Check implements engine.Checker: the instance's system's checks, in
// name order, stopping at the first that fails.
func (c *Checker) Check(ctx context.Context, instance string) error {
	checks := c.Inventory.HealthChecks[c.Inventory.Instances[instance].System]
	log := io.Discard
	if c.Log != nil {
		log = c.Log(instance)
	}
	for _, name := range slices.Sorted(maps.Keys(checks)) {
		if err := c.retry(ctx, log, instance, name, checks[name]); err != nil {
			return err
		}
	}
	return nil
}

// retry runs one check until it passes or its attempts are used up.
func (c *Checker) retry(ctx context.Context, log io.Writer, instance, name string, hc inventory.HealthCheck) error {
	sleep := c.Sleep
	if sleep == nil {
		sleep = ctxtime.Sleep
	}
	what := Describe(hc)
	var err error
	for attempt := 1; attempt <= hc.Retries; attempt++ {
		if attempt > 1 {
			if serr := sleep(ctx, time.Duration(hc.Period)*time.Second); serr != nil {
				return fmt.Errorf("health check %s (%s): %w", name, what, serr)
			}
		}
		actx, cancel := context.WithTimeout(ctx, time.Duration(hc.Timeout)*time.Second)
		err = c.attempt(actx, instance, hc)
		cancel()
		if err == nil {
			fmt.Fprintf(log, "health check %s passed (%s)\n", name, what)
			return nil
		}
		fmt.Fprintf(log, "health check %s: attempt %d of %d failed: %s\n", name, attempt, hc.Retries, firstLine(err.Error()))
	}
	return fmt.Errorf("health check %s (%s) failed %d times; the last time: %w", name, what, hc.Retries, err)
}

// attempt runs one attempt of a check.
func (c *Checker) attempt(ctx context.Context, instance string, hc inventory.HealthCheck) error {
	if hc.HTTP != nil {
		return c.http(ctx, instance, *hc.HTTP)
	}
	out, err := c.Runner.Run(ctx, process.Command{Args: c.SSH.Command(instance, hc.Command...)})
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("no answer within the timeout: %w", err)
	case len(bytes.TrimSpace(out)) > 0:
		return fmt.Errorf("%w\n  its output: %s", err, clip(strings.TrimSpace(string(out)), 1000))
	}
	return err
}

// ForwardArgs is the ssh command that connects its standard input and
// output to host:port as the instance reaches it.
func ForwardArgs(cfg *sshconfig.Config, instance, host string, port int) []string {
	return []string{"ssh", "-F", cfg.Path, "-o", "LogLevel=ERROR", "-W", net.JoinHostPort(host, strconv.Itoa(port)), instance}
}

// Request is the HTTP/1.0 request an HTTP check sends.
func Request(h inventory.HTTPCheck) string {
	return "GET " + h.Path + " HTTP/1.0\r\nHost: " + net.JoinHostPort(h.Host, strconv.Itoa(h.Port)) +
		"\r\nUser-Agent: nix-hive\r\nConnection: close\r\n\r\n"
}

// http makes the check's request through an ssh forward and compares the
// response's status.
func (c *Checker) http(ctx context.Context, instance string, h inventory.HTTPCheck) error {
	out, err := c.Runner.Run(ctx, process.Command{
		Args:  ForwardArgs(c.SSH, instance, h.Host, h.Port),
		Stdin: strings.NewReader(Request(h)),
	})
	if err != nil && len(out) == 0 {
		if ctx.Err() != nil {
			return fmt.Errorf("no answer within the timeout: %w", err)
		}
		return fmt.Errorf("connect to %s:%d on %s: %w", h.Host, h.Port, instance, err)
	}
	return CheckResponse(out, h.Status)
}

// CheckResponse parses a raw HTTP response and checks its status; the
// error shows the status line and the start of the body.
func CheckResponse(raw []byte, want int) error {
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
	if err != nil {
		return fmt.Errorf("the answer is not an HTTP response (%v): %q", err, clip(string(raw), 200))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != want {
		return fmt.Errorf("%w: got %s, want %d; the response: %s", ErrStatus, resp.Status, want, clip(strings.TrimSpace(string(body)), 500))
	}
	return nil
}

// ErrStatus is wrapped by the error of an HTTP check whose response had
// another status than expected.
var ErrStatus = errors.New("unexpected HTTP status")

// Describe says what a check does, for a person.
func Describe(hc inventory.HealthCheck) string {
	if h := hc.HTTP; h != nil {
		return fmt.Sprintf("GET http://%s%s, want %d", net.JoinHostPort(h.Host, strconv.Itoa(h.Port)), h.Path, h.Status)
	}
	return process.QuoteArgs(hc.Command)
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
