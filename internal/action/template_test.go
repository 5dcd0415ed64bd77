package action

import "testing"

func TestTemplateRender(t *testing.T) {
	tests := []struct {
		template string
		want     string
	}{
		{"", "production/web-1"},
		{DefaultEnvironment, "production/web-1"},
		{"{instance}", "web-1"},
		{"{environment}", "production"},
		{"{system}:{instance}@{environment}", "web:web-1@production"},
		{"fleet", "fleet"},
		{"{instance}-{instance}", "web-1-web-1"},
	}
	for _, tt := range tests {
		tmpl, err := ParseTemplate(tt.template)
		if err != nil {
			t.Errorf("ParseTemplate(%q): %v", tt.template, err)
			continue
		}
		if got := tmpl.Render("web-1", "production", "web"); got != tt.want {
			t.Errorf("%q renders %q, want %q", tt.template, got, tt.want)
		}
	}
}

func TestTemplateErrors(t *testing.T) {
	for _, bad := range []string{"{host}", "{Instance}", "{}", "{instance", "instance}", "}{instance}", "{env{instance}}"} {
		if _, err := ParseTemplate(bad); err == nil {
			t.Errorf("ParseTemplate(%q) succeeded", bad)
		}
	}
}
