package selector

import (
	"errors"
	"reflect"
	"testing"
)

var fleet = map[string][]string{
	"web-1": {"eu", "frontend"},
	"web-2": {"us", "frontend"},
	"db-1":  {"eu", "database"},
	"cache": {},
}

func names() []string { return []string{"web-1", "web-2", "db-1", "cache"} }

func tagsOf(n string) []string { return fleet[n] }

func TestSelect(t *testing.T) {
	tests := []struct {
		on      string
		want    []string
		wantErr string
	}{
		{on: "", want: []string{"cache", "db-1", "web-1", "web-2"}},
		{on: "web-1", want: []string{"web-1"}},
		{on: "web-*", want: []string{"web-1", "web-2"}},
		{on: "@eu", want: []string{"db-1", "web-1"}},
		{on: "@front*", want: []string{"web-1", "web-2"}},
		{on: "@eu,cache, web-2", want: []string{"cache", "db-1", "web-1", "web-2"}},
		{on: "web-1,web-1", want: []string{"web-1"}},
		{on: "db-?", want: []string{"db-1"}},
		{on: "web-3", wantErr: `--on term "web-3" selects no instance; check the instance names and tags with ` + "`nix-hive inventory`"},
		{on: "@asia", wantErr: `--on term "@asia" selects no instance; check the instance names and tags with ` + "`nix-hive inventory`"},
		{on: "web-1,", wantErr: `--on "web-1,": empty term; separate names, globs and @tags with single commas`},
		{on: "@", wantErr: `--on "@": "@" is not a name, glob (web-*) or @tag`},
		{on: "web 1", wantErr: `--on "web 1": "web 1" is not a name, glob (web-*) or @tag`},
		{on: "$(reboot)", wantErr: `--on "$(reboot)": "$(reboot)" is not a name, glob (web-*) or @tag`},
		{on: "web-[", wantErr: `--on "web-[": bad glob "web-[": syntax error in pattern`},
	}
	for _, tt := range tests {
		t.Run(tt.on, func(t *testing.T) {
			sel, err := Parse(tt.on)
			var got []string
			if err == nil {
				got, err = sel.Select(names(), tagsOf)
			}
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Select(%q) = %v, want %v", tt.on, got, tt.want)
			}
		})
	}
}

func TestSelectReportsEveryMissingTerm(t *testing.T) {
	sel, err := Parse("nope,@none,web-1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = sel.Select(names(), tagsOf)
	if !errors.Is(err, ErrNoMatch) {
		t.Fatalf("error %v does not wrap ErrNoMatch", err)
	}
	want := "--on term \"nope\" selects no instance; check the instance names and tags with `nix-hive inventory`\n" +
		"--on term \"@none\" selects no instance; check the instance names and tags with `nix-hive inventory`"
	if err.Error() != want {
		t.Errorf("error = %q", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "web-1", "@eu,web-*", "a,,b", "[", "@"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := Parse(s)
		if err != nil {
			return
		}
		got, err := sel.Select(names(), tagsOf)
		if err != nil {
			return
		}
		for _, n := range got {
			if _, ok := fleet[n]; !ok {
				t.Fatalf("selected unknown %q", n)
			}
		}
	})
}
