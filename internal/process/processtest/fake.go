// Package processtest has a fake process.Runner for tests that answers
// only the commands it was told to expect and fails the test on any other,
// and on any expectation no command used.
package processtest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/nix-hive/nix-hive/internal/process"
)

// Fake is a process.Runner for tests. It answers only the commands it was
// told to expect and reports every other call as an error, so a test fails
// on an unexpected command instead of running it.
type Fake struct {
	mu       sync.Mutex
	expected []fakeReply
	calls    []process.Command
}

type fakeReply struct {
	prefix []string
	stdout string
	err    error
	fn     func(process.Command) (string, error)
	used   bool
}

var _ process.Runner = (*Fake)(nil)

// New returns a Fake that fails t, when the test ends, for every
// expectation no command matched.
func New(t testing.TB) *Fake {
	f := &Fake{}
	t.Cleanup(func() {
		if unused := f.Unused(); len(unused) > 0 {
			t.Errorf("expected commands that never ran: %q", unused)
		}
	})
	return f
}

// Expect makes commands whose arguments start with prefix answer stdout and
// err. Several expectations may match; the first unused one wins, then the
// last one is reused.
func (f *Fake) Expect(prefix []string, stdout string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.expected = append(f.expected, fakeReply{prefix: prefix, stdout: stdout, err: err})
}

// Respond makes commands whose arguments start with prefix answer what fn
// returns for them, for replies that depend on the arguments.
func (f *Fake) Respond(prefix []string, fn func(process.Command) (string, error)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.expected = append(f.expected, fakeReply{prefix: prefix, fn: fn})
}

// Run implements Runner.
func (f *Fake) Run(ctx context.Context, c process.Command) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
	var match *fakeReply
	for i := range f.expected {
		r := &f.expected[i]
		if hasPrefix(c.Args, r.prefix) {
			match = r
			if !r.used {
				break
			}
		}
	}
	if match == nil {
		return nil, fmt.Errorf("process.Fake: unexpected command: %s", process.QuoteArgs(c.Args))
	}
	match.used = true
	if match.fn != nil {
		out, err := match.fn(c)
		return []byte(out), err
	}
	return []byte(match.stdout), match.err
}

// Calls returns the commands run so far.
func (f *Fake) Calls() []process.Command {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]process.Command(nil), f.calls...)
}

// Unused lists the expectations that no command matched, for a test to
// fail on.
func (f *Fake) Unused() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.expected {
		if !r.used {
			out = append(out, strings.Join(r.prefix, " "))
		}
	}
	return out
}

func hasPrefix(args, prefix []string) bool {
	if len(prefix) > len(args) {
		return false
	}
	for i := range prefix {
		if args[i] != prefix[i] {
			return false
		}
	}
	return true
}
