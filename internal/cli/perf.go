package cli

import (
	"flag"
	"fmt"
	"path/filepath"

	"github.com/nix-hive/nix-hive/internal/deploy"
)

// perfFlags are the flags that spread a run over runners and reuse work
// across runs: --shard, --eval-cache and --no-eval-cache.
type perfFlags struct {
	shard, evalCache string
	noEvalCache      bool
}

func (p *perfFlags) register(fs *flag.FlagSet, shard bool) {
	if shard {
		fs.StringVar(&p.shard, "shard", "", "deploy only part K of N of the selection (K/N), split by store, for one runner of N")
	}
	fs.StringVar(&p.evalCache, "eval-cache", "", "directory of the evaluation cache (default: $XDG_CACHE_HOME/nix-hive/eval, else ~/.cache/nix-hive/eval)")
	fs.BoolVar(&p.noEvalCache, "no-eval-cache", false, "evaluate every system, without the evaluation cache")
}

// apply checks the flags and sets them on r.
func (p *perfFlags) apply(r *deploy.Request, env Env) error {
	var err error
	if r.Shard, err = deploy.ParseShard(p.shard); err != nil {
		return fmt.Errorf("%w: --shard: %w", ErrUsage, err)
	}
	r.EvalCache = ""
	if !p.noEvalCache {
		r.EvalCache = p.evalCache
		if r.EvalCache == "" {
			r.EvalCache = DefaultEvalCache(env)
		}
	}
	return nil
}

// DefaultEvalCache is the evaluation cache's directory when none is given:
// under $XDG_CACHE_HOME, else ~/.cache; "" (no cache) without either.
func DefaultEvalCache(env Env) string {
	if d := env("XDG_CACHE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "nix-hive", "eval")
	}
	if h := env("HOME"); filepath.IsAbs(h) {
		return filepath.Join(h, ".cache", "nix-hive", "eval")
	}
	return ""
}
