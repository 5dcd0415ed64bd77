package deployments

import (
	"strings"
	"testing"
)

func TestClip(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"", 5, ""},
		{"hello", 5, "hello"},
		{"hello!", 5, "hell…"},
		{"żółćęśą", 4, "żół…"},
		{strings.Repeat("ü", MaxDescription), MaxDescription, strings.Repeat("ü", MaxDescription)},
		{strings.Repeat("ü", 200), MaxDescription, strings.Repeat("ü", MaxDescription-1) + "…"},
		{"hello", 0, ""},
	}
	for _, tt := range tests {
		if got := Clip(tt.in, tt.n); got != tt.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestCheckEnvironmentName(t *testing.T) {
	tests := []struct {
		name    string
		wantErr string
	}{
		{"production/web-1", ""},
		{strings.Repeat("ü", MaxEnvironmentName), ""}, // characters, not bytes
		{"", "empty"},
		{strings.Repeat("e", MaxEnvironmentName+1), "256 characters, longer than GitHub's 255"},
	}
	for _, tt := range tests {
		err := CheckEnvironmentName(tt.name)
		if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("CheckEnvironmentName(%.20q…) = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}

func TestCheckURL(t *testing.T) {
	for _, ok := range []string{"https://web-1.example.com", "http://10.0.0.1:8080/x", "https://ghe.example.com/api/v3"} {
		if err := CheckURL(ok); err != nil {
			t.Errorf("CheckURL(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "web-1", "ghe.example.com", "ftp://x.example.com", "https://", "https//x", "http://a b"} {
		if err := CheckURL(bad); err == nil || err.Error() != strings.ReplaceAll(`"X" is not an http(s) URL`, "X", bad) {
			t.Errorf("CheckURL(%q) = %v", bad, err)
		}
	}
}
