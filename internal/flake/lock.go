package flake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/nix-hive/nix-hive/internal/nixcmd"
	"github.com/nix-hive/nix-hive/internal/process"
)

// Locked is a hive in a flake with the flake's locked source: what a
// deployment from it deploys, whatever the tree holds later.
type Locked struct {
	Ref
	// URL is the flake's locked reference (with rev or narHash), which
	// pure evaluation accepts.
	URL string `json:"url"`
	// Rev is the git revision of the flake, when it is in git.
	Rev string `json:"rev,omitempty"`
	// NarHash is the hash of the flake's source.
	NarHash string `json:"narHash"`
	// LastModified is the time of the source's last change (Unix seconds).
	LastModified int64 `json:"lastModified,omitempty"`
}

// Lock reads the flake's locked source with nix flake metadata, without
// writing its lock file. A flake with inputs but no flake.lock (ErrNoLock)
// and a git tree with uncommitted changes (ErrDirty) are errors that say
// what to do. (A flake without inputs needs no flake.lock: nix writes
// none.)
func Lock(ctx context.Context, r process.Runner, ref Ref) (*Locked, error) {
	lockFile := isFile(filepath.Join(ref.Dir, "flake.lock"))
	noLock := fmt.Errorf("%s: %w: a hive from a flake is evaluated with the inputs flake.lock pins; run `nix flake lock %s` and commit flake.lock", ref.Dir, ErrNoLock, ref.Dir)
	out, err := r.Run(ctx, process.Command{Args: nixcmd.FlakeMetadata(ref.Dir)})
	if err != nil && !lockFile {
		return nil, noLock
	}
	if err != nil {
		return nil, fmt.Errorf("read the flake %s: %w", ref.Dir, err)
	}
	l, inputs, err := ParseMetadata(ref, out)
	if err == nil && inputs && !lockFile {
		return nil, noLock
	}
	return l, err
}

// metadata is the part of `nix flake metadata --json` nix-hive reads; Nix
// 2.8 and current Nix print it alike.
type metadata struct {
	URL    string `json:"url"`
	Locked struct {
		Type         string `json:"type"`
		Rev          string `json:"rev"`
		NarHash      string `json:"narHash"`
		LastModified int64  `json:"lastModified"`
	} `json:"locked"`
	Locks struct {
		Root  string `json:"root"`
		Nodes map[string]struct {
			Inputs map[string]json.RawMessage `json:"inputs"`
		} `json:"nodes"`
	} `json:"locks"`
}

// ParseMetadata reads the output of nix flake metadata --json for ref, and
// whether the flake has inputs. A git source without a revision is a dirty
// tree (ErrDirty).
func ParseMetadata(ref Ref, out []byte) (l *Locked, inputs bool, err error) {
	var m metadata
	if err := json.Unmarshal(out, &m); err != nil {
		return nil, false, fmt.Errorf("read the flake %s: nix flake metadata printed no JSON: %w", ref.Dir, err)
	}
	if m.Locked.Type == "git" && m.Locked.Rev == "" {
		return nil, false, fmt.Errorf("%s: %w (uncommitted changes): a deployment from a flake names the revision it deploys; commit the changes (git status lists them) and run nix-hive again", ref.Dir, ErrDirty)
	}
	if m.URL == "" || m.Locked.NarHash == "" {
		return nil, false, fmt.Errorf("read the flake %s: nix flake metadata gave no locked url and narHash", ref.Dir)
	}
	inputs = len(m.Locks.Nodes[m.Locks.Root].Inputs) > 0
	return &Locked{Ref: ref, URL: m.URL, Rev: m.Locked.Rev, NarHash: m.Locked.NarHash, LastModified: m.Locked.LastModified}, inputs, nil
}

// Fetch fetches every input flake.lock pins into the local store (nix
// flake archive), so that an input that cannot be fetched (ErrFetch) stops
// a deployment before any host is touched, with nix's reason.
func Fetch(ctx context.Context, r process.Runner, l *Locked) error {
	_, err := r.Run(ctx, process.Command{Args: nixcmd.FlakeArchive(l.URL)})
	var ce *process.CommandError
	if errors.As(err, &ce) && ce.ExitCode > 0 {
		return fmt.Errorf("%s: %w: %s; check the input's url in flake.nix and its entry in flake.lock (nix flake update refreshes it), and the network", l.Dir, ErrFetch, reason(ce.StderrTail))
	}
	if err != nil {
		return fmt.Errorf("fetch the inputs of the flake %s: %w", l.Dir, err)
	}
	return nil
}

// reason is nix's error message in stderr on one line, without its
// "error: " prefix.
func reason(stderr string) string {
	return strings.TrimPrefix(strings.Join(strings.Fields(nixcmd.ErrorMessage(stderr)), " "), "error: ")
}
