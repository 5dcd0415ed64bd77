package evalcache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nix-hive/nix-hive/internal/inventory"
	"github.com/nix-hive/nix-hive/internal/process"
)

// Inputs are what a hive's evaluation reads, besides the system's own
// settings.
type Inputs struct {
	// Inventory gives the hive file, its include paths and its flake.
	Inventory *inventory.Inventory
	// ExprDir holds nix-hive's expressions as the run wrote them.
	ExprDir string
	// Environ is the environment nix runs with (NIX_PATH, NIX_CONFIG).
	Environ []string
	// NixConf is the nix.conf nix reads; "" means /etc/nix/nix.conf.
	NixConf string
}

// InputsKey hashes in: the files under the hive's directory (its
// deployment directory; .git left out) and under each include path
// outside the Nix store (a store path is named by its content), or the
// locked flake's reference; nix-hive's expressions; NIX_PATH, NIX_CONFIG
// and nix.conf; and the version nix-instantiate reports, which it runs
// once.
func InputsKey(ctx context.Context, r process.Runner, in Inputs) (string, error) {
	h := sha256.New()
	inv := in.Inventory
	if inv.Flake != nil {
		fmt.Fprintf(h, "flake\x00%s\x00%s\x00", inv.Flake.URL, inv.Flake.Attr)
	} else if err := hashTree(h, filepath.Dir(inv.File)); err != nil {
		return "", err
	}
	for _, p := range includePaths(inv) {
		if strings.HasPrefix(p, "/nix/store/") {
			fmt.Fprintf(h, "store\x00%s\x00", p)
		} else if err := hashTree(h, p); err != nil {
			return "", err
		}
	}
	if err := hashTree(h, in.ExprDir); err != nil {
		return "", err
	}
	for _, kv := range in.Environ {
		if strings.HasPrefix(kv, "NIX_PATH=") || strings.HasPrefix(kv, "NIX_CONFIG=") {
			fmt.Fprintf(h, "env\x00%s\x00", kv)
		}
	}
	conf := in.NixConf
	if conf == "" {
		conf = "/etc/nix/nix.conf"
	}
	if data, err := os.ReadFile(conf); err == nil {
		fmt.Fprintf(h, "nix.conf\x00%s\x00", data)
	}
	version, err := r.Run(ctx, process.Command{Args: []string{"nix-instantiate", "--version"}})
	if err != nil {
		return "", fmt.Errorf("evaluation cache: ask nix its version: %w", err)
	}
	fmt.Fprintf(h, "version\x00%s\x00", version)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// includePaths are the directories the systems' include paths name
// (prefix=path or path), each once, in order, the deployment directory
// left out (hashed as the hive's directory).
func includePaths(inv *inventory.Inventory) []string {
	var out []string
	add := func(entries []string) {
		for _, e := range entries {
			_, p, ok := strings.Cut(e, "=")
			if !ok {
				p = e
			}
			if strings.HasPrefix(e, "deployment=") || !filepath.IsAbs(p) || slices.Contains(out, p) {
				continue
			}
			out = append(out, p)
		}
	}
	add(inv.Paths)
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n := range inv.Systems {
			if !yield(n) {
				return
			}
		}
	}) {
		add(inv.Systems[name].Path)
	}
	return out
}

// hashTree writes the names, modes and contents of the files under root
// (or of root, a file) into h, in a fixed order; symbolic links by their
// target, .git directories left out.
func hashTree(h hash.Hash, root string) error {
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		switch {
		case d.IsDir() && d.Name() == ".git":
			return filepath.SkipDir
		case d.IsDir():
			fmt.Fprintf(h, "dir\x00%s\x00", rel)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "link\x00%s\x00%s\x00", rel, target)
		case d.Type().IsRegular():
			return hashFile(h, path, rel)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("evaluation cache: read the hive's inputs: %w", err)
	}
	return nil
}

// hashFile writes one file's name, executable bit and content into h.
func hashFile(h hash.Hash, path, rel string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	fmt.Fprintf(h, "file\x00%s\x00%v\x00%d\x00", rel, st.Mode()&0o111 != 0, st.Size())
	_, err = io.Copy(h, f)
	return err
}
