// Package process is nix-hive's one way to run an external program (nix,
// ssh, ip, sshd, ...). Every command runs with a context, in its own process
// group so that children (ssh under nix copy, say) die with it, with secrets
// removed from its environment, and fails with a *CommandError that carries
// the arguments, the exit code and the tail of its standard error.
package process

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Command describes one program run.
type Command struct {
	// Args is the program and its arguments; Args[0] is looked up in PATH.
	Args []string
	// Env holds extra KEY=VALUE pairs added to the (filtered) environment.
	Env []string
	// Dir is the working directory; empty means the current one.
	Dir string
	// Stdin feeds the program's standard input; nil means none.
	Stdin io.Reader
	// Stdout, when set, receives the program's standard output as it is
	// written, in addition to the copy Run returns.
	Stdout io.Writer
	// Stderr, when set, receives the program's standard error as it is
	// written; the last lines are kept for CommandError either way. A
	// writer with a Flush method is flushed when the program ends.
	Stderr io.Writer
}

// String renders the command as a shell-quoted line, for logs and --dry-run.
func (c Command) String() string {
	var b strings.Builder
	for _, kv := range c.Env {
		b.WriteString(Quote(kv))
		b.WriteByte(' ')
	}
	return b.String() + QuoteArgs(c.Args)
}

// Runner runs commands. Exec is the real one; tests use fakes.
type Runner interface {
	// Run runs c to completion and returns its standard output.
	Run(ctx context.Context, c Command) ([]byte, error)
}

// CommandError reports a command that could not start or exited non-zero.
type CommandError struct {
	// Args is the command that failed.
	Args []string
	// ExitCode is the exit status, or -1 when the program did not exit
	// normally (not found, killed by a signal, cancelled).
	ExitCode int
	// StderrTail holds the last lines the program wrote to standard error.
	StderrTail string
	// Err is the underlying error.
	Err error
}

// Error implements error.
func (e *CommandError) Error() string {
	msg := fmt.Sprintf("%s failed", commandName(e.Args))
	if e.ExitCode >= 0 {
		msg += fmt.Sprintf(" with exit code %d", e.ExitCode)
	} else if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if tail := strings.TrimSpace(e.StderrTail); tail != "" {
		msg += ":\n" + indent(tail)
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *CommandError) Unwrap() error { return e.Err }

// commandName names a command for an error: the program and its first
// argument, or for ssh the host (the word before "--").
func commandName(args []string) string {
	switch {
	case len(args) == 0:
		return "command"
	case len(args) == 1:
		return args[0]
	}
	if args[0] == "ssh" {
		for i := 2; i < len(args); i++ {
			if args[i] == "--" {
				return "ssh to " + args[i-1]
			}
		}
	}
	return args[0] + " " + args[1]
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// Exec runs commands for real.
type Exec struct {
	// Environ is the base environment; nil means os.Environ(). Secrets are
	// removed from it before any command sees it (see FilterEnv).
	Environ []string
	// Keep lists variable prefixes FilterEnv would remove that these
	// commands see all the same ("AWS_" for nix copy to an s3:// store).
	Keep []string
	// Grace is how long a cancelled command gets after SIGINT before its
	// process group is killed; zero means 5 seconds.
	Grace time.Duration
	// TailLines is how many lines of standard error a CommandError keeps;
	// zero means 20.
	TailLines int
}

var _ Runner = (*Exec)(nil)

// Run implements Runner.
func (e *Exec) Run(ctx context.Context, c Command) ([]byte, error) {
	if len(c.Args) == 0 {
		return nil, errors.New("run: empty command")
	}
	grace := e.Grace
	if grace == 0 {
		grace = 5 * time.Second
	}
	tailLines := e.TailLines
	if tailLines == 0 {
		tailLines = 20
	}
	base := e.Environ
	if base == nil {
		base = os.Environ()
	}

	cmd := exec.CommandContext(ctx, c.Args[0], c.Args[1:]...)
	cmd.Env = append(filterEnv(base, e.Keep), c.Env...)
	cmd.Dir = c.Dir
	cmd.Stdin = c.Stdin
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if c.Stdout != nil {
		cmd.Stdout = io.MultiWriter(&stdout, c.Stdout)
	}
	tail := &tailBuffer{max: tailLines}
	cmd.Stderr = tail
	if c.Stderr != nil {
		cmd.Stderr = io.MultiWriter(tail, c.Stderr)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var killOnce sync.Once
	cmd.Cancel = func() error {
		pgid := cmd.Process.Pid
		err := syscall.Kill(-pgid, syscall.SIGINT)
		killOnce.Do(func() {
			time.AfterFunc(grace, func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
		})
		return err
	}
	cmd.WaitDelay = grace + time.Second

	err := cmd.Run()
	flush(c.Stdout, c.Stderr)
	if err == nil {
		return stdout.Bytes(), nil
	}
	ce := &CommandError{Args: c.Args, ExitCode: -1, StderrTail: tail.String(), Err: err}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) && exitErr.Exited() {
		ce.ExitCode = exitErr.ExitCode()
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		ce.Err = fmt.Errorf("%w (%v)", ctxErr, err)
	}
	return stdout.Bytes(), ce
}

// flush writes out what line-buffered writers (such as linewriter's) still
// hold, so that a command's last line without a newline is not lost.
func flush(writers ...io.Writer) {
	for _, w := range writers {
		if f, ok := w.(interface{ Flush() error }); ok {
			_ = f.Flush()
		}
	}
}

// secretEnvPrefixes lists environment variables no child process may see:
// the action's inputs (which hold keys), GitHub's tokens, and the AWS
// configuration and credentials discovery reads EC2 with (nix and ssh do
// not need them, unless a store is in S3: see Exec.Keep).
func secretEnvPrefixes() []string {
	return []string{
		"INPUT_",
		"GITHUB_TOKEN=",
		"GH_TOKEN=",
		"ACTIONS_RUNTIME_TOKEN=",
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN=",
		"ACTIONS_ID_TOKEN_REQUEST_URL=",
		"NIX_HIVE_GITHUB_TOKEN=",
		AWSPrefix,
	}
}

// AWSPrefix starts the AWS SDKs' variables (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_WEB_IDENTITY_TOKEN_FILE,
// AWS_PROFILE, ...), which FilterEnv removes.
const AWSPrefix = "AWS_"

// FilterEnv returns env without the variables that carry secrets.
func FilterEnv(env []string) []string { return filterEnv(env, nil) }

// filterEnv is FilterEnv, keeping the variables that start with one of
// keep.
func filterEnv(env, keep []string) []string {
	out := make([]string, 0, len(env))
next:
	for _, kv := range env {
		for _, p := range secretEnvPrefixes() {
			if strings.HasPrefix(kv, p) && !slices.ContainsFunc(keep, func(k string) bool { return strings.HasPrefix(kv, k) }) {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

// tailBuffer keeps the last max lines written to it.
type tailBuffer struct {
	mu    sync.Mutex
	max   int
	lines []string
	part  []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.part = append(t.part, p...)
	for {
		i := bytes.IndexByte(t.part, '\n')
		if i < 0 {
			break
		}
		t.push(string(t.part[:i]))
		t.part = t.part[i+1:]
	}
	if len(t.part) > 64<<10 {
		t.push(string(t.part))
		t.part = nil
	}
	return len(p), nil
}

func (t *tailBuffer) push(line string) {
	t.lines = append(t.lines, line)
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := t.lines
	if len(t.part) > 0 {
		lines = append(append([]string(nil), lines...), string(t.part))
		if len(lines) > t.max {
			lines = lines[len(lines)-t.max:]
		}
	}
	return strings.Join(lines, "\n")
}
