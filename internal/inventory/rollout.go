package inventory

import (
	"maps"
	"regexp"
	"strconv"
	"strings"
)

// Rollout is hive.nix's `rollout`: the waves a deployment goes through.
// The command line's --wave, --batch and --rollback-wave replace it.
type Rollout struct {
	// Waves are selectors (the syntax of --on), one per wave, in order.
	Waves []string `json:"waves"`
	// Batch splits each wave into batches of N instances ("5") or of a
	// percentage of the wave ("25%"); empty for none.
	Batch string `json:"batch,omitempty"`
	// RollbackWave rolls back the instances of a failed wave that did
	// activate.
	RollbackWave bool `json:"rollbackWave"`
}

// HealthCheck is one of a system's health checks: a command run on the
// host (success is exit code 0) or an HTTP request made from the runner
// through the ssh configuration. It is tried up to Retries times, Period
// seconds apart, each attempt bounded by Timeout seconds.
type HealthCheck struct {
	// Command is the program and its arguments, run on the host; nil for
	// an HTTP check.
	Command []string `json:"command,omitempty"`
	// HTTP is the request to make; nil for a command check.
	HTTP *HTTPCheck `json:"http,omitempty"`
	// Retries is how many attempts are made before the check fails.
	Retries int `json:"retries"`
	// Period is the pause between attempts, in seconds.
	Period int `json:"period"`
	// Timeout bounds each attempt, in seconds.
	Timeout int `json:"timeout"`
}

// HTTPCheck is an HTTP GET of http://Host:Port/Path as the instance sees
// it (Host "localhost" is the instance itself), made through an ssh
// forward to the instance; it passes when the response has Status.
type HTTPCheck struct {
	Host   string `json:"host"`
	Port   int    `json:"port"`
	Path   string `json:"path"`
	Status int    `json:"status"`
}

// Key is a secret uploaded to the host: its content comes from exactly one
// of File, Command or Env on the runner, never from Nix.
type Key struct {
	// File is a file on the runner.
	File string `json:"file,omitempty"`
	// Command is a program run on the runner that prints the key.
	Command []string `json:"command,omitempty"`
	// Env is an environment variable of the runner.
	Env string `json:"env,omitempty"`
	// DestDir is the directory the key is written to on the host, as a
	// file named after the key.
	DestDir string `json:"destDir"`
	// User, Group and Permissions (octal) are the file's owner and mode.
	User        string `json:"user"`
	Group       string `json:"group"`
	Permissions string `json:"permissions"`
	// UploadAt is "pre-activation" or "post-activation".
	UploadAt string `json:"uploadAt"`
}

// Key upload times.
const (
	PreActivation  = "pre-activation"
	PostActivation = "post-activation"
)

// Keys are hive.nix's keys: each system's (for all its instances) and each
// instance's own, by owner and then key name.
type Keys struct {
	Systems   map[string]map[string]Key `json:"systems"`
	Instances map[string]map[string]Key `json:"instances"`
}

// KeysOf returns an instance's keys: its system's, then its own, which
// replace a system key of the same name.
func (inv *Inventory) KeysOf(instance string) map[string]Key {
	out := map[string]Key{}
	maps.Copy(out, inv.Keys.Systems[inv.Instances[instance].System])
	maps.Copy(out, inv.Keys.Instances[instance])
	return out
}

var (
	accountPattern = regexp.MustCompile(`^([a-z_][a-z0-9_.-]*\$?|[0-9]+)$`)
	modePattern    = regexp.MustCompile(`^0?[0-7]{3}$`)
	envPattern     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	hostPattern    = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.:-]*[A-Za-z0-9])?$`)
	batchPattern   = regexp.MustCompile(`^[1-9][0-9]*%?$`)
)

// validateRollout checks what hive/rollout.nix left to Go: the batch, the
// checks' numbers and HTTP targets, and the keys' names, owners, modes and
// directories. bad records one problem.
func (inv *Inventory) validateRollout(bad func(where, format string, args ...any)) {
	if b := inv.Rollout.Batch; b != "" && !ValidBatch(b) {
		bad("rollout.batch", "%q is neither a number of instances (5) nor a percentage (25%%)", b)
	}
	for _, sys := range sortedKeys(inv.HealthChecks) {
		for _, name := range sortedKeys(inv.HealthChecks[sys]) {
			checkHealthCheck("systems."+attrName(sys)+".healthChecks."+attrName(name), inv.HealthChecks[sys][name], bad)
		}
	}
	for kind, owners := range map[string]map[string]map[string]Key{"systems": inv.Keys.Systems, "instances": inv.Keys.Instances} {
		for _, owner := range sortedKeys(owners) {
			for _, name := range sortedKeys(owners[owner]) {
				where := kind + "." + attrName(owner) + ".keys." + attrName(name)
				if !namePattern.MatchString(name) {
					bad(where, "the name must match [A-Za-z0-9][A-Za-z0-9._-]*: it is the key's file name")
				}
				checkKey(where, owners[owner][name], bad)
			}
		}
	}
}

// ValidBatch reports whether s is a batch size: N or P% (1–100).
func ValidBatch(s string) bool {
	if !batchPattern.MatchString(s) {
		return false
	}
	if p, ok := strings.CutSuffix(s, "%"); ok {
		n, err := strconv.Atoi(p)
		return err == nil && n <= 100
	}
	return true
}

func checkHealthCheck(where string, c HealthCheck, bad func(where, format string, args ...any)) {
	if c.Retries < 1 || c.Period < 0 || c.Timeout < 1 {
		bad(where, "retries and timeout must be at least 1, period not negative")
	}
	if c.Command != nil && (len(c.Command) == 0 || c.Command[0] == "") {
		bad(where+".command", "name the program to run")
	}
	if h := c.HTTP; h != nil {
		if h.Port < 1 || h.Port > 65535 {
			bad(where+".http.port", "%d is not a port", h.Port)
		}
		if !hostPattern.MatchString(h.Host) {
			bad(where+".http.host", "%q is not a host name or address", h.Host)
		}
		if !strings.HasPrefix(h.Path, "/") || strings.ContainsAny(h.Path, " \r\n\t") {
			bad(where+".http.path", "%q must start with / and hold no space", h.Path)
		}
		if h.Status < 100 || h.Status > 599 {
			bad(where+".http.status", "%d is not an HTTP status", h.Status)
		}
	}
}

func checkKey(where string, k Key, bad func(where, format string, args ...any)) {
	if !strings.HasPrefix(k.DestDir, "/") || strings.ContainsAny(k.DestDir, "\n\r") || strings.Contains(k.DestDir, "/../") {
		bad(where+".destDir", "%q must be an absolute directory", k.DestDir)
	}
	if strings.HasPrefix(k.DestDir, "/nix/store") {
		bad(where+".destDir", "keys never go into the Nix store")
	}
	for field, v := range map[string]string{"user": k.User, "group": k.Group} {
		if !accountPattern.MatchString(v) {
			bad(where+"."+field, "%q is not a user or group name", v)
		}
	}
	if !modePattern.MatchString(k.Permissions) {
		bad(where+".permissions", "%q is not an octal mode such as 0600 or 0440", k.Permissions)
	}
	if k.UploadAt != PreActivation && k.UploadAt != PostActivation {
		bad(where+".uploadAt", "%q is not %s or %s", k.UploadAt, PreActivation, PostActivation)
	}
	if k.Env != "" && !envPattern.MatchString(k.Env) {
		bad(where+".env", "%q is not an environment variable name", k.Env)
	}
	if k.Command != nil && (len(k.Command) == 0 || k.Command[0] == "") {
		bad(where+".command", "name the program to run")
	}
}
