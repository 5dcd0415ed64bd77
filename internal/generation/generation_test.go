package generation

import (
	"errors"
	"testing"
)

// listed is ListScript's output on a lab host after three deployments
// (the third a redeploy of the first system) and a manual switch.
const listed = `profile=system-3-link
generation=1 /nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-nixos-system-web
generation=10 /nix/store/dddddddddddddddddddddddddddddddd-nixos-system-web
generation=2 /nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-nixos-system-web
generation=3 /nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-nixos-system-web
current=/nix/store/cccccccccccccccccccccccccccccccc-nixos-system-web
`

func TestParseAndPrevious(t *testing.T) {
	tests := []struct {
		name, out string
		wantGen   int
		wantErr   error
	}{
		{"skips generations of the same system", listed, 1, nil},
		{"the newest older one", "profile=/nix/var/nix/profiles/system-2-link\ngeneration=1 /nix/store/a-x\ngeneration=2 /nix/store/b-x\n", 1, nil},
		{"only one generation", "profile=system-1-link\ngeneration=1 /nix/store/a-x\ncurrent=/nix/store/a-x\n", 0, ErrNoPrevious},
		{"no profile", "profile=\ncurrent=\n", 0, ErrNoPrevious},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.out))
			if err != nil {
				t.Fatal(err)
			}
			g, err := p.Previous()
			if !errors.Is(err, tt.wantErr) || g.Number != tt.wantGen {
				t.Errorf("Previous() = %+v, %v; want generation %d, %v", g, err, tt.wantGen, tt.wantErr)
			}
		})
	}
	p, _ := Parse([]byte(listed))
	if p.Running != "/nix/store/cccccccccccccccccccccccccccccccc-nixos-system-web" || p.Current != 3 || len(p.Generations) != 4 || p.Generations[3].Number != 10 {
		t.Errorf("Parse = %+v", p)
	}
	if !p.Has("/nix/store/dddddddddddddddddddddddddddddddd-nixos-system-web") || p.Has("/nix/store/cccccccccccccccccccccccccccccccc-nixos-system-web") {
		t.Error("Has is wrong")
	}
}

func TestParseRejects(t *testing.T) {
	for _, out := range []string{"profile=/nix/store/x-nixos-system\n", "generation=x /nix/store/a\n"} {
		if _, err := Parse([]byte(out)); err == nil {
			t.Errorf("Parse(%q) succeeded", out)
		}
	}
}
