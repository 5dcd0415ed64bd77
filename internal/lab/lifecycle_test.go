package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nix-hive/nix-hive/internal/process"
)

// smallSpec is a public host and a site with a bastion and a private host.
var smallSpec = Spec{Hosts: []HostSpec{
	{Name: "pub"},
	{Name: "gw", Site: "s", Bastion: true},
	{Name: "priv", Site: "s"},
}}

// assertGone fails the test if anything rec lists is still there.
func assertGone(t *testing.T, rec record) {
	t.Helper()
	ctx := context.Background()
	out, err := (&process.Exec{}).Run(ctx, process.Command{Args: []string{"ip", "netns", "list"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 && slices.Contains(rec.Namespaces, f[0]) {
			t.Errorf("namespace %s is left over", f[0])
		}
	}
	out, err = (&process.Exec{}).Run(ctx, process.Command{Args: []string{"ip", "-o", "link", "show"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, link := range rec.Links {
		if strings.Contains(string(out), ": "+link+":") {
			t.Errorf("link %s is left over", link)
		}
	}
	for _, pid := range rec.Pids {
		if alive(pid) {
			t.Errorf("process %d is left over", pid)
		}
	}
	// Another lab may have taken the slot since, with a record of its own.
	if data, err := os.ReadFile(recordPath(rec.Slot)); err == nil {
		var now record
		if json.Unmarshal(data, &now) == nil && now.Dir == rec.Dir {
			t.Errorf("record of slot %d is left over", rec.Slot)
		}
	}
	if rec.Dir == "" {
		t.Error("record names no directory")
	} else if _, err := os.Stat(rec.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lab directory %s is left over (%v)", rec.Dir, err)
	}
}

func snapshot(l *Lab) record {
	l.mu.Lock()
	defer l.mu.Unlock()
	rec := l.rec
	rec.Pids = slices.Clone(rec.Pids)
	return rec
}

func TestCloseRemovesEverything(t *testing.T) {
	t.Parallel()
	Require(t)
	ctx := context.Background()
	l, err := New(ctx, &process.Exec{}, smallSpec)
	if err != nil {
		t.Fatal(err)
	}
	rec := snapshot(l)
	if len(rec.Namespaces) != 4 || len(rec.Links) != 2 || len(rec.Pids) != 6 {
		t.Errorf("record = %+v, want 4 namespaces, 2 links, 6 pids", rec)
	}
	// A process a session left running on a host dies with the lab.
	out, err := l.Exec(ctx, "priv", "sh", "-c", "sleep 1000 </dev/null >/dev/null 2>&1 & echo $!")
	if err != nil {
		t.Fatal(err)
	}
	bg, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || !alive(bg) {
		t.Fatalf("background process %q not running: %v", out, err)
	}
	rec.Pids = append(rec.Pids, bg)

	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	assertGone(t, rec)
	if err := l.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := l.Exec(ctx, "pub", "true"); err == nil {
		t.Error("Exec works on a closed lab")
	}
}

func TestNewSweepsWhatADeadLabLeft(t *testing.T) {
	// Not parallel: a lab built meanwhile could take the dead lab's slot,
	// sweep it and make namespaces of the same names.
	Require(t)
	ctx := context.Background()
	a, err := New(ctx, &process.Exec{}, smallSpec)
	if err != nil {
		t.Fatal(err)
	}
	recA := snapshot(a)

	// A lab built while a is alive leaves a alone.
	other := NewForTest(t, Spec{Hosts: []HostSpec{{Name: "other"}}})
	if other.Slot == a.Slot {
		t.Fatalf("two live labs share slot %d", a.Slot)
	}
	if out, err := a.Exec(ctx, "priv", "hostname"); err != nil || strings.TrimSpace(string(out)) != "priv" {
		t.Fatalf("lab a broke when another lab was built: %q %v", out, err)
	}

	// a's process dies: its lock goes, its namespaces, links, processes
	// and files stay.
	a.slot.release()

	// Names that differ from a's everywhere, so that what b makes cannot
	// be mistaken for a's leftovers: its only uplink has index 2.
	b := NewForTest(t, Spec{Hosts: []HostSpec{{Name: "x1", Site: "t"}, {Name: "x2", Site: "t"}, {Name: "x3"}}})
	assertGone(t, recA)
	if out, err := b.Exec(ctx, "x1", "hostname"); err != nil || strings.TrimSpace(string(out)) != "x1" {
		t.Errorf("lab b after the sweep: %q %v", out, err)
	}
}

// failingRunner runs commands for real but fails those fail picks, and
// keeps the last record of the lab's slot it saw, to learn what the lab
// made.
type failingRunner struct {
	fail func(args []string) bool

	mu   sync.Mutex
	slot int
	last record
}

var slotOfNamespace = regexp.MustCompile(`^nhl-(\d+)-`)

func (f *failingRunner) Run(ctx context.Context, c process.Command) ([]byte, error) {
	f.mu.Lock()
	if len(c.Args) == 4 && c.Args[1] == "netns" && c.Args[2] == "add" {
		if m := slotOfNamespace.FindStringSubmatch(c.Args[3]); m != nil {
			f.slot, _ = strconv.Atoi(m[1])
		}
	}
	if data, err := os.ReadFile(recordPath(f.slot)); err == nil {
		var rec record
		if json.Unmarshal(data, &rec) == nil && rec.Owner == os.Getpid() && len(rec.Pids) >= len(f.last.Pids) {
			f.last = rec
		}
	}
	f.mu.Unlock()
	if f.fail(c.Args) {
		return nil, fmt.Errorf("injected failure of %s", process.QuoteArgs(c.Args))
	}
	return (&process.Exec{}).Run(ctx, c)
}

func TestNewRemovesWhatItMadeWhenItFails(t *testing.T) {
	t.Parallel()
	Require(t)
	has := func(args []string, words ...string) bool {
		for _, w := range words {
			if !slices.ContainsFunc(args, func(a string) bool { return strings.Contains(a, w) }) {
				return false
			}
		}
		return true
	}
	tests := []struct {
		name string
		fail func(args []string) bool
	}{
		{"site bridge", func(a []string) bool { return has(a, "bridge") }},
		{"veth of the private host", func(a []string) bool { return has(a, "veth", "-priv") }},
		{"lab key", func(a []string) bool { return has(a, "ssh-keygen") && slices.Contains(a, "nix-hive-lab") }},
		{"namespace holder of the bastion", func(a []string) bool { return has(a, "setsid", "/hosts/gw/") }},
		{"sshd of the private host", func(a []string) bool { return has(a, sshdPath, "/hosts/priv/") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &failingRunner{fail: tt.fail, slot: -1}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			l, err := New(ctx, f, smallSpec)
			if err == nil {
				l.Close(ctx)
				t.Fatal("New did not fail")
			}
			t.Logf("New failed as it should: %v", err)
			if !strings.Contains(err.Error(), "injected failure") {
				t.Errorf("error does not carry the failure: %v", err)
			}
			f.mu.Lock()
			rec := f.last
			f.mu.Unlock()
			if len(rec.Namespaces) == 0 {
				t.Fatalf("saw no record of what New made")
			}
			assertGone(t, rec)
		})
	}
}

func TestStartSSHReportsAnSSHDThatDies(t *testing.T) {
	t.Parallel()
	l := NewForTest(t, Spec{Hosts: []HostSpec{{Name: "pub"}}})
	ctx := context.Background()
	h := l.Hosts["pub"]
	if err := l.StopSSH(ctx, "pub"); err != nil {
		t.Fatal(err)
	}
	// Without its address sshd passes its checks, daemonizes and then
	// cannot bind.
	if _, err := l.Exec(ctx, "pub", "ip", "addr", "del", h.Addr+"/30", "dev", hostUplink); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := l.StartSSH(ctx, "pub")
	if err == nil || !strings.Contains(err.Error(), "Cannot bind any address") {
		t.Errorf("StartSSH without an address = %v, want the sshd log's bind failure", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("StartSSH took %s to notice", d)
	}
	if _, err := l.Exec(ctx, "pub", "ip", "addr", "add", h.Addr+"/30", "dev", hostUplink); err != nil {
		t.Fatal(err)
	}
	if err := l.StartSSH(ctx, "pub"); err != nil {
		t.Errorf("StartSSH with the address back: %v", err)
	}
}
