// Package evalcache keeps, across runs, the derivation each system
// evaluated to, keyed by a hash of everything the evaluation read: the
// hive's files, its include paths (or its locked flake), the system's nix
// settings, nix's configuration, nix-hive's own expressions and nix's
// version. A run whose inputs are unchanged reuses the derivations instead
// of evaluating again; a derivation the garbage collector removed since is
// evaluated again.
//
// The cache is a directory of small files, one per system and key, which
// the GitHub Action can keep between runs with actions/cache.
package evalcache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nix-hive/nix-hive/internal/inventory"
)

// Cache is an evaluation cache directory and the key of a run's inputs.
type Cache struct {
	// Dir is the cache directory.
	Dir string
	// Inputs is the hash of the run's inputs (see InputsKey).
	Inputs string
}

// entry is what the cache keeps for one system.
type entry struct {
	Drv string `json:"drv"`
}

// key is the file name of system's entry: the inputs' hash and the
// system's own settings (platform, include paths, nix settings), hashed.
func (c *Cache) key(name string, sys inventory.System) string {
	h := sha256.New()
	settings, _ := json.Marshal(sys) // a struct of strings, lists and maps: marshalling cannot fail
	fmt.Fprintf(h, "%s\x00%s\x00%s", c.Inputs, name, settings)
	return hex.EncodeToString(h.Sum(nil)) + ".json"
}

// Get returns the derivation system evaluated to in an earlier run with
// the same inputs, if the cache has one.
func (c *Cache) Get(name string, sys inventory.System) (drv string, ok bool) {
	data, err := os.ReadFile(filepath.Join(c.Dir, c.key(name, sys)))
	if err != nil {
		return "", false
	}
	var e entry
	if json.Unmarshal(data, &e) != nil || !strings.HasPrefix(e.Drv, "/nix/store/") || !strings.HasSuffix(e.Drv, ".drv") {
		return "", false
	}
	return e.Drv, true
}

// Put records the derivation system evaluated to. It writes a temporary
// file and renames it, so that concurrent runs never read half an entry.
func (c *Cache) Put(name string, sys inventory.System, drv string) error {
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return fmt.Errorf("write the evaluation cache: %w", err)
	}
	data, _ := json.Marshal(entry{Drv: drv})
	tmp, err := os.CreateTemp(c.Dir, ".new-*")
	if err != nil {
		return fmt.Errorf("write the evaluation cache: %w", err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write the evaluation cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(c.Dir, c.key(name, sys))); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write the evaluation cache: %w", err)
	}
	return nil
}
