package dpop

import "testing"

func TestNormalizeURL(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"https://api.example.io/things", "https://api.example.io/things"},
		{"HTTPS://API.EXAMPLE.IO/Things", "https://api.example.io/Things"},
		{"https://api.example.io:443/a", "https://api.example.io/a"},
		{"http://api.example.io:80/a", "http://api.example.io/a"},
		{"http://api.example.io:443/a", "http://api.example.io:443/a"},
		{"https://api.example.io:8443/a", "https://api.example.io:8443/a"},
		{"https://api.example.io", "https://api.example.io/"},
		{"https://api.example.io?q=1", "https://api.example.io/"},
		{"https://api.example.io/a?q=1#frag", "https://api.example.io/a"},
		{"https://api.example.io/%7euser/%2fx%2F", "https://api.example.io/~user/%2Fx%2F"},
		{"https://api.example.io/a%20b", "https://api.example.io/a%20b"},
		{"https://api.example.io/a b", "https://api.example.io/a%20b"},
		{"https://api.example.io/a/./b/../c", "https://api.example.io/a/c"},
		{"https://api.example.io/a/b/..", "https://api.example.io/a/"},
		{"https://api.example.io/a/b/.", "https://api.example.io/a/b/"},
		{"https://api.example.io/../a", "https://api.example.io/a"},
		{"https://api.example.io/a/%2E%2E/b", "https://api.example.io/b"},
		{"https://api.example.io/a//b", "https://api.example.io/a//b"},
		{"https://[::1]:443/a", "https://[::1]/a"},
		{"https://[::1]:8443/a", "https://[::1]:8443/a"},
		{"https://api.example.io/a%zz", ""},
		{"/relative", ""},
		{"ftp://api.example.io/a", ""},
		{"https://user:pw@api.example.io/a", ""},
		{"mailto:a@example.io", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := normalizeURL(tt.in)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("got %q, %v, want %q", got, ok, tt.want)
			}
		})
	}
}
