package dpop

import (
	"net"
	"net/url"
	"strings"
)

// sameURL reports whether htu names the request URL want, comparing as
// RFC 9449 §4.3 asks: query and fragment ignored, and both normalized per
// RFC 3986 §6.2.2 and §6.2.3 (see normalizeURL).
func sameURL(htu, want string) bool {
	a, ok := normalizeURL(htu)
	if !ok {
		return false
	}
	b, ok := normalizeURL(want)
	return ok && a == b
}

// normalizeURL returns an absolute http(s) URL without query and
// fragment in one canonical form: scheme and host in lower case, no
// default port, an empty path as "/", percent-encoding normalized and dot
// segments removed. ok is false for anything else, user info included.
func normalizeURL(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil || u.Host == "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	switch {
	case port != "":
		host = net.JoinHostPort(host, port)
	case strings.Contains(host, ":"):
		host = "[" + host + "]"
	}
	path := u.EscapedPath()
	switch {
	case path == "":
		path = "/"
	case path[0] != '/':
		return "", false
	}
	return scheme + "://" + host + removeDotSegments(normalizePercent(path)), true
}

// normalizePercent decodes percent-encoded unreserved characters and
// writes the remaining escapes in upper case (RFC 3986 §6.2.2.1, §6.2.2.2).
func normalizePercent(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			b.WriteByte(s[i])
			continue
		}
		c := unhex(s[i+1])<<4 | unhex(s[i+2])
		if isUnreserved(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteString(strings.ToUpper(s[i+1 : i+3]))
		}
		i += 2
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// isUnreserved: RFC 3986 §2.3.
func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// removeDotSegments resolves "." and ".." in an absolute path (RFC 3986
// §5.2.4), keeping empty segments and a trailing slash.
func removeDotSegments(path string) string {
	if !strings.Contains(path, ".") {
		return path
	}
	in := strings.Split(path[1:], "/")
	out := make([]string, 0, len(in))
	for i, seg := range in {
		last := i == len(in)-1
		switch seg {
		case ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
			continue
		}
		if last {
			out = append(out, "")
		}
	}
	return "/" + strings.Join(out, "/")
}
