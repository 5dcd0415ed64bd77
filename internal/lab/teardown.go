package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nix-hive/nix-hive/internal/ctxtime"
	"github.com/nix-hive/nix-hive/internal/process"
)

// Close removes everything the lab made: its processes, links,
// namespaces (and with them every mount made inside them) and its
// directory, then gives its slot up. Calling it again does nothing but
// wait for a Close under way to finish. When something cannot be removed,
// the slot's record stays, so the next lab to take the slot tries again.
func (l *Lab) Close(ctx context.Context) error {
	var err error
	l.closeOnce.Do(func() { err = l.close(ctx) })
	return err
}

func (l *Lab) close(ctx context.Context) error {
	l.mu.Lock()
	l.closed = true
	rec := l.rec
	l.mu.Unlock()

	defer l.slot.release()
	if err := teardown(ctx, l.r, rec); err != nil {
		return fmt.Errorf("close lab %d: %w", l.Slot, err)
	}
	if err := os.Remove(recordPath(l.Slot)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("close lab %d: %w", l.Slot, err)
	}
	return nil
}

// teardown removes what rec lists, skipping what is already gone and
// refusing names that are not a lab's of rec's slot.
func teardown(ctx context.Context, r process.Runner, rec record) error {
	var errs []error
	var namespaces, links []string
	for _, ns := range rec.Namespaces {
		if !strings.HasPrefix(ns, fmt.Sprintf("nhl-%d-", rec.Slot)) || strings.ContainsRune(ns, '/') {
			errs = append(errs, fmt.Errorf("refuse to remove namespace %q: not a name lab %d makes", ns, rec.Slot))
			continue
		}
		if exists(filepath.Join("/run/netns", ns)) {
			namespaces = append(namespaces, ns)
		}
	}
	for _, link := range rec.Links {
		if !strings.HasPrefix(link, fmt.Sprintf("nhl%du", rec.Slot)) || strings.ContainsRune(link, '/') {
			errs = append(errs, fmt.Errorf("refuse to remove link %q: not a name lab %d makes", link, rec.Slot))
			continue
		}
		if exists(filepath.Join("/sys/class/net", link)) {
			links = append(links, link)
		}
	}

	// Every process in a lab namespace is the lab's: its mount-namespace
	// holders, its sshds and whatever their sessions started.
	for _, ns := range namespaces {
		if err := killNamespace(ctx, r, ns, 0); err != nil {
			errs = append(errs, err)
		}
	}
	for _, link := range links {
		if _, err := r.Run(ctx, process.Command{Args: []string{"ip", "link", "del", "dev", link}}); err != nil && exists(filepath.Join("/sys/class/net", link)) {
			errs = append(errs, fmt.Errorf("remove link %s: %w", link, err))
		}
	}
	for _, ns := range namespaces {
		if _, err := r.Run(ctx, process.Command{Args: []string{"ip", "netns", "del", ns}}); err != nil && exists(filepath.Join("/run/netns", ns)) {
			errs = append(errs, fmt.Errorf("remove namespace %s: %w", ns, err))
		}
	}
	if rec.Dir != "" {
		if !filepath.IsAbs(rec.Dir) || !strings.HasPrefix(filepath.Base(rec.Dir), fmt.Sprintf("nix-hive-lab-%d-", rec.Slot)) {
			errs = append(errs, fmt.Errorf("refuse to remove directory %q: not a directory lab %d makes", rec.Dir, rec.Slot))
		} else if err := os.RemoveAll(rec.Dir); err != nil {
			errs = append(errs, fmt.Errorf("remove lab directory: %w", err))
		}
	}
	return errors.Join(errs...)
}

// killNamespace kills every process in network namespace ns except keep
// and waits until they are gone.
func killNamespace(ctx context.Context, r process.Runner, ns string, keep int) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := r.Run(ctx, process.Command{Args: []string{"ip", "netns", "pids", ns}})
		if err != nil {
			return fmt.Errorf("list the processes of namespace %s: %w", ns, err)
		}
		var left []int
		for _, f := range strings.Fields(string(out)) {
			pid, err := strconv.Atoi(f)
			if err != nil || pid == keep || !alive(pid) {
				continue
			}
			left = append(left, pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v of namespace %s do not die", left, ns)
		}
		if err := ctxtime.Sleep(ctx, 20*time.Millisecond); err != nil {
			return fmt.Errorf("stop the processes of namespace %s: %w", ns, err)
		}
	}
}

// alive reports whether pid is a process that has not exited (a zombie has).
func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name, which may itself
	// hold spaces and parentheses.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return false
	}
	return s[i+2] != 'Z' && s[i+2] != 'X'
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
