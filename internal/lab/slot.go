package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/nix-hive/nix-hive/internal/process"
)

// stateDir holds one lock file and one record per slot. It is on /run so
// that a reboot, which removes every namespace, also forgets the records.
const stateDir = "/run/nix-hive-lab"

// record is what a lab made, written to slot-N.json before it makes it, so
// that the next owner of the slot can remove it if this one dies.
type record struct {
	Slot       int      `json:"slot"`
	Owner      int      `json:"owner_pid"`
	Dir        string   `json:"dir"`
	Namespaces []string `json:"namespaces"`
	Links      []string `json:"links"`
	Pids       []int    `json:"pids"`
}

// slotLock is a held slot: an exclusive flock on its lock file, and an
// abstract unix socket bound in the network namespace. The flock guards
// the slot's record; the socket keeps labs of another mount namespace (a
// Debian root entered with pivot_root, whose /run is its own) that share
// this network namespace, and so the namespaces' and links' names, off
// the slot. The kernel drops both when the process dies.
type slotLock struct {
	n        int
	file     *os.File
	listener net.Listener
}

func lockPath(n int) string   { return filepath.Join(stateDir, fmt.Sprintf("slot-%d.lock", n)) }
func recordPath(n int) string { return filepath.Join(stateDir, fmt.Sprintf("slot-%d.json", n)) }

// tryLock takes slot n if nobody holds it; it returns nil, nil when the
// slot is taken.
func tryLock(n int) (*slotLock, error) {
	f, err := os.OpenFile(lockPath(n), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lab slot lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, nil
		}
		return nil, fmt.Errorf("lock %s: %w", lockPath(n), err)
	}
	l, err := net.Listen("unix", fmt.Sprintf("@nix-hive-lab-slot-%d", n))
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, nil // held by a lab in another mount namespace
		}
		return nil, fmt.Errorf("lock lab slot %d: %w", n, err)
	}
	return &slotLock{n: n, file: f, listener: l}, nil
}

// release gives the slot up.
func (s *slotLock) release() {
	if s != nil && s.file != nil {
		s.listener.Close()
		s.file.Close()
		s.file = nil
	}
}

// acquireSlot takes the lowest free slot, first removing what a dead
// previous owner left in it, and then sweeps the other dead owners' slots.
func acquireSlot(ctx context.Context, r process.Runner) (*slotLock, error) {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, fmt.Errorf("take a lab slot: %w", err)
	}
	var errs []error
	var mine *slotLock
	for n := 0; n < maxSlots && mine == nil; n++ {
		sl, err := tryLock(n)
		if err != nil {
			return nil, fmt.Errorf("take a lab slot: %w", err)
		}
		if sl == nil {
			continue
		}
		if err := sweepSlot(ctx, r, n); err != nil {
			errs = append(errs, err)
			sl.release()
			continue
		}
		mine = sl
	}
	if mine == nil {
		return nil, fmt.Errorf("take a lab slot: all %d slots are in use or could not be swept: %w", maxSlots, errors.Join(errs...))
	}
	sweepOthers(ctx, r, mine.n)
	return mine, nil
}

// sweepOthers removes what dead owners of other slots left, so leftovers of
// a killed test do not wait for someone to need their slot. Failures are
// left for the slot's next owner to report.
func sweepOthers(ctx context.Context, r process.Runner, mine int) {
	paths, _ := filepath.Glob(filepath.Join(stateDir, "slot-*.json"))
	for _, p := range paths {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "slot-"), ".json"))
		if err != nil || n == mine || n < 0 || n >= maxSlots {
			continue
		}
		sl, err := tryLock(n)
		if err != nil || sl == nil {
			continue
		}
		_ = sweepSlot(ctx, r, n)
		sl.release()
	}
}

// sweepSlot removes what the record of slot n lists; the caller holds the
// slot's lock, so its owner is gone.
func sweepSlot(ctx context.Context, r process.Runner, n int) error {
	data, err := os.ReadFile(recordPath(n))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the record of stale lab slot %d: %w", n, err)
	}
	var rec record
	if err := json.Unmarshal(data, &rec); err != nil || rec.Slot != n {
		// Nothing trustworthy to remove; a record we cannot read names
		// nothing we may touch.
		return os.Remove(recordPath(n))
	}
	if err := teardown(ctx, r, rec); err != nil {
		return fmt.Errorf("remove stale lab %d (left by process %d): %w", n, rec.Owner, err)
	}
	if err := os.Remove(recordPath(n)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove the record of stale lab %d: %w", n, err)
	}
	return nil
}

// saveRecord writes the lab's record atomically.
func (l *Lab) saveRecord() error {
	data, err := json.MarshalIndent(l.rec, "", "  ")
	if err != nil {
		return fmt.Errorf("record lab %d: %w", l.Slot, err)
	}
	tmp := recordPath(l.Slot) + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("record lab %d: %w", l.Slot, err)
	}
	if err := os.Rename(tmp, recordPath(l.Slot)); err != nil {
		return fmt.Errorf("record lab %d: %w", l.Slot, err)
	}
	return nil
}

// addPid records a process the lab started.
func (l *Lab) addPid(pid int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rec.Pids = append(l.rec.Pids, pid)
	return l.saveRecord()
}
