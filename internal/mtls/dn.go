package mtls

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// A distinguished name in RFC 4514 order: the most specific RDN (usually
// CN) first, as written in a string such as "CN=billing,O=Acme,C=DE".
type dn []rdn

// An RDN: usually one attribute, several when joined by '+'.
type rdn []attr

type attr struct {
	oid   string // dotted, e.g. 2.5.4.3 for CN
	value string // unescaped
}

// attrTypes are the RFC 4514 §3 names plus those OpenSSL and Go print for
// common subject attributes, upper-case, to their OIDs.
var attrTypes = map[string]string{
	"CN": "2.5.4.3", "SERIALNUMBER": "2.5.4.5", "C": "2.5.4.6", "L": "2.5.4.7", "ST": "2.5.4.8",
	"STREET": "2.5.4.9", "O": "2.5.4.10", "OU": "2.5.4.11", "POSTALCODE": "2.5.4.17",
	"DC": "0.9.2342.19200300.100.1.25", "UID": "0.9.2342.19200300.100.1.1",
	"EMAILADDRESS": "1.2.840.113549.1.9.1", "E": "1.2.840.113549.1.9.1",
}

// parseDN reads an RFC 4514 string (see Subject.Matches for what is
// normalized). Hex values ("#04...") are refused.
func parseDN(s string) (dn, error) {
	var out dn
	var cur rdn
	for i := 0; ; {
		a, next, err := parseAttr(s, i)
		if err != nil {
			return nil, err
		}
		cur = append(cur, a)
		if next == len(s) || s[next] == ',' {
			out = append(out, cur)
			cur = nil
		}
		if next == len(s) {
			return out, nil
		}
		i = next + 1
	}
}

// parseAttr reads "type=value" from s[i:] and returns the index of the
// ',' or '+' after it, or len(s).
func parseAttr(s string, i int) (attr, int, error) {
	eq := strings.IndexAny(s[i:], "=,+")
	if eq < 0 || s[i+eq] != '=' {
		end := len(s)
		if eq >= 0 {
			end = i + eq
		}
		return attr{}, 0, fmt.Errorf("%q has no '='", strings.TrimSpace(s[i:end]))
	}
	name := strings.TrimSpace(s[i : i+eq])
	oid, err := attrOID(name)
	if err != nil {
		return attr{}, 0, err
	}
	value, next, err := parseValue(s, i+eq+1)
	if err != nil {
		return attr{}, 0, fmt.Errorf("%s: %w", name, err)
	}
	return attr{oid: oid, value: value}, next, nil
}

func attrOID(name string) (string, error) {
	if name == "" {
		return "", errors.New("attribute without a type")
	}
	if oid, ok := attrTypes[strings.ToUpper(name)]; ok {
		return oid, nil
	}
	if strings.HasPrefix(strings.ToUpper(name), "OID.") {
		name = name[4:]
	}
	parts := strings.Split(name, ".")
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" || (len(p) > 1 && p[0] == '0') {
			return "", fmt.Errorf("unknown attribute type %q (write it as a dotted OID)", name)
		}
	}
	if len(parts) < 2 {
		return "", fmt.Errorf("unknown attribute type %q (write it as a dotted OID)", name)
	}
	return name, nil
}

// parseValue unescapes an RFC 4514 attribute value starting at s[i] and
// returns it with the index of the ',' or '+' that ends it, or len(s).
func parseValue(s string, i int) (string, int, error) {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	if i < len(s) && s[i] == '#' {
		return "", 0, errors.New("hex-encoded values (#...) are not supported")
	}
	var b []byte
	keep := 0 // length of b up to its last escaped or non-space byte
	for ; i < len(s); i++ {
		c := s[i]
		switch c {
		case ',', '+':
			return finishValue(b[:keep], i)
		case '"', ';', '<', '>', 0:
			return "", 0, fmt.Errorf("%q must be escaped with a backslash", c)
		case '\\':
			if i+1 == len(s) {
				return "", 0, errors.New("value ends in a backslash")
			}
			if n := strings.IndexByte(` "#+,;<=>\`, s[i+1]); n >= 0 {
				b = append(b, s[i+1])
				i++
			} else if h, ok := unhex(s, i+1); ok {
				b = append(b, h)
				i += 2
			} else {
				return "", 0, fmt.Errorf("bad escape %q", s[i:min(i+3, len(s))])
			}
			keep = len(b)
		default:
			b = append(b, c)
			if c != ' ' {
				keep = len(b)
			}
		}
	}
	return finishValue(b[:keep], len(s))
}

func finishValue(b []byte, next int) (string, int, error) {
	if len(b) == 0 {
		return "", 0, errors.New("empty value")
	}
	if !utf8.Valid(b) {
		return "", 0, errors.New("value is not UTF-8")
	}
	return string(b), next, nil
}

func unhex(s string, i int) (byte, bool) {
	if i+2 > len(s) {
		return 0, false
	}
	var v byte
	for _, c := range []byte(s[i : i+2]) {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | (c - '0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | (c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | (c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return v, true
}

// equal compares RDN by RDN in order; the attributes of one RDN as a set.
func (d dn) equal(o dn) bool {
	return slices.EqualFunc(d, o, func(a, b rdn) bool {
		return slices.Equal(a.sorted(), b.sorted())
	})
}

func (r rdn) sorted() rdn {
	return slices.SortedFunc(slices.Values(r), func(a, b attr) int {
		return strings.Compare(a.oid+"\x00"+a.value, b.oid+"\x00"+b.value)
	})
}
