package action

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sethvargo/go-githubactions"
)

// TestActionYAML checks action.yml against Parse: the same inputs, the same
// defaults, and the outputs and command the action writes and runs.
func TestActionYAML(t *testing.T) {
	data, err := os.ReadFile("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	block := text[strings.Index(text, "\ninputs:\n"):strings.Index(text, "\noutputs:\n")]
	defaults := map[string]string{}
	var name string
	for _, line := range strings.Split(block, "\n") {
		if m := regexp.MustCompile(`^  ([a-z-]+):$`).FindStringSubmatch(line); m != nil {
			name = m[1]
			defaults[name] = ""
		}
		if v, ok := strings.CutPrefix(line, "    default: "); ok {
			if u, err := strconv.Unquote(v); err == nil {
				v = u
			}
			defaults[name] = v
		}
	}

	env := fakeEnv(t, nil)
	var read []string
	a := githubactions.New(githubactions.WithGetenv(func(k string) string {
		if n, ok := strings.CutPrefix(k, "INPUT_"); ok {
			read = append(read, strings.ToLower(n))
		}
		return env[k]
	}), githubactions.WithWriter(&strings.Builder{}))
	want, _, err := Parse(a)
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for n := range defaults {
		declared = append(declared, n)
	}
	slices.Sort(declared)
	slices.Sort(read)
	if read = slices.Compact(read); !slices.Equal(declared, read) {
		t.Errorf("action.yml declares inputs %q; Parse reads %q", declared, read)
	}

	// The runner passes action.yml's defaults; they must mean what no
	// value means.
	for n, v := range defaults {
		if _, set := env["INPUT_"+strings.ToUpper(n)]; !set && !strings.Contains(v, "${{") {
			env["INPUT_"+strings.ToUpper(n)] = v
		}
	}
	got, _, err := Parse(mustAction(env))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("with action.yml's defaults: %+v\nwithout: %+v", *got, *want)
	}

	for _, s := range []string{"\n  results:\n", "\n  deployments:\n"} {
		if !strings.Contains(text, s) {
			t.Errorf("action.yml lacks %q", s)
		}
	}
	// The action runs the image the release workflow publishes, by tag.
	published := regexp.MustCompile(`\n  using: docker\n  image: docker://ghcr\.io/[a-z0-9-]+/[a-z0-9-]+:v[0-9]+\.[0-9]+\.[0-9]+\n  args:\n    - action\n`)
	if !published.MatchString(text) {
		t.Errorf("action.yml does not run a published image by version tag (docker://ghcr.io/OWNER/NAME:vX.Y.Z):\n%s", text)
	}
}
