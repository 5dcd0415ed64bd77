//go:build imagetest

package imagetest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// enterVar carries a container's spec from the test to its copy of the
// test binary that enters the container (see TestMain).
const enterVar = "NIX_HIVE_IMAGETEST_ENTER"

// container is one run of the image: what docker run would be given.
type container struct {
	// Image is the image's root filesystem, read-only (podman image mount).
	Image string
	// Layer is a directory for the container's writable layer.
	Layer string
	// Binds are host directories mounted at paths in the container (-v).
	Binds map[string]string
	// Workdir is the directory the entry point starts in (--workdir).
	Workdir string
	// Args are the entry point and its arguments.
	Args []string
	// Env is the container's whole environment (the image's and -e's).
	Env []string
}

// image is what a test needs of the image under test.
type image struct {
	Name       string
	Root       string
	Env        []string
	Entrypoint []string
}

// mountImage mounts the image named by NIX_HIVE_IMAGE and reads its
// configuration; the mount goes away when the test ends.
func mountImage(t *testing.T) *image {
	t.Helper()
	name := os.Getenv("NIX_HIVE_IMAGE")
	if name == "" {
		t.Fatal("NIX_HIVE_IMAGE names no image: run scripts/test-image")
	}
	out, err := exec.Command("podman", "image", "inspect", "--format", "{{json .Config}}", name).Output()
	if err != nil {
		t.Fatalf("podman image inspect %s: %v", name, stderrOf(err))
	}
	var cfg struct {
		Env        []string `json:"Env"`
		Entrypoint []string `json:"Entrypoint"`
	}
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatalf("image %s's configuration %s: %v", name, out, err)
	}
	root, err := exec.Command("podman", "image", "mount", name).Output()
	if err != nil {
		t.Fatalf("podman image mount %s: %v", name, stderrOf(err))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("podman", "image", "unmount", name).CombinedOutput(); err != nil {
			t.Errorf("podman image unmount %s: %v: %s", name, err, out)
		}
	})
	return &image{Name: name, Root: strings.TrimSpace(string(root)), Env: cfg.Env, Entrypoint: cfg.Entrypoint}
}

func stderrOf(err error) error {
	if ee, ok := err.(*exec.ExitError); ok {
		return fmt.Errorf("%w: %s", err, ee.Stderr)
	}
	return err
}

// command returns the command that runs c: this test binary again, in a
// new mount namespace, where enter sets the container up and executes its
// entry point.
func (c *container) command(ctx context.Context, stdout, stderr io.Writer) (*exec.Cmd, error) {
	spec, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, "-test.run=^$")
	cmd.Env = append(slices.Clone(c.Env), enterVar+"="+string(spec))
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS, Setpgid: true}
	return cmd, nil
}

// enter runs in the new mount namespace: it mounts the image under a
// writable layer (overlayfs, as a container runtime does), gives it /proc,
// /sys, /dev, a fresh /run and /tmp and the bind mounts, makes it the root
// (pivot_root), and executes the entry point with the container's
// environment. It does not return.
func enter(spec string) {
	var c container
	if err := json.Unmarshal([]byte(spec), &c); err != nil {
		fail("read the container's spec: %v", err)
	}
	must := func(what string, err error) {
		if err != nil {
			fail("%s: %v", what, err)
		}
	}
	must("make mounts private", syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""))
	root := filepath.Join(c.Layer, "root")
	for _, d := range []string{root, filepath.Join(c.Layer, "upper"), filepath.Join(c.Layer, "work")} {
		must("make the layer", os.MkdirAll(d, 0o755))
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s/upper,workdir=%s/work", c.Image, c.Layer, c.Layer)
	must("mount the image", syscall.Mount("overlay", root, "overlay", 0, opts))
	bind := func(src, dst string) {
		target := filepath.Join(root, dst)
		must("make "+dst, os.MkdirAll(target, 0o755))
		must("mount "+dst, syscall.Mount(src, target, "", syscall.MS_BIND|syscall.MS_REC, ""))
	}
	for _, d := range []string{"/proc", "/sys", "/dev"} {
		bind(d, d)
	}
	for _, d := range []string{"/run", "/tmp"} {
		must("make "+d, os.MkdirAll(filepath.Join(root, d), 0o755))
		must("mount "+d, syscall.Mount("tmpfs", filepath.Join(root, d), "tmpfs", 0, "mode=1777"))
	}
	for src, dst := range c.Binds {
		bind(src, dst)
	}
	must("make /.oldroot", os.MkdirAll(filepath.Join(root, ".oldroot"), 0o700))
	must("enter the root", os.Chdir(root))
	must("pivot_root", syscall.PivotRoot(".", ".oldroot"))
	must("leave the old root", syscall.Unmount("/.oldroot", syscall.MNT_DETACH))
	must("remove /.oldroot", os.Remove("/.oldroot"))
	must("enter the workdir", os.Chdir(c.Workdir))
	fail("execute %s: %v", c.Args[0], syscall.Exec(c.Args[0], c.Args, c.Env))
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "imagetest: enter the container: "+format+"\n", args...)
	os.Exit(125) // docker run's code for a container that did not start
}
