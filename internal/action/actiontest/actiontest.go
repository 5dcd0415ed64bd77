// Package actiontest helps tests play GitHub's runner for the action: it
// applies changes to a runner environment and reads the GITHUB_OUTPUT file
// the action writes.
package actiontest

import (
	"strings"
	"testing"
)

// Edit applies edit to env: a non-empty value sets a variable, an empty one
// removes it.
func Edit(env, edit map[string]string) map[string]string {
	for k, v := range edit {
		env[k] = v
	}
	for k, v := range env {
		if v == "" {
			delete(env, k)
		}
	}
	return env
}

// ParseOutputs reads a GITHUB_OUTPUT file: NAME<<DELIMITER, the value's
// lines, DELIMITER. With strict, a NAME=VALUE line fails the test (the
// action always writes the delimited form); otherwise it is read too.
func ParseOutputs(t testing.TB, data string, strict bool) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := strings.Split(data, "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] == "" {
			continue
		}
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			if strict {
				t.Fatalf("GITHUB_OUTPUT line %q is not NAME<<DELIMITER", lines[i])
			}
			k, v, _ := strings.Cut(lines[i], "=")
			out[k] = v
			continue
		}
		var value []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			value = append(value, lines[i])
		}
		if i == len(lines) {
			t.Fatalf("output %s: no closing %s", name, delim)
		}
		out[name] = strings.Join(value, "\n")
	}
	return out
}
