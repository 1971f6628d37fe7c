package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxDepth bounds how deeply an admin request body may nest.
const maxDepth = 32

// checkDuplicateKeys refuses a JSON document in which some object names
// a key twice: encoding/json keeps the last one silently, so two readers
// of the same body (a proxy's policy, gatehouse) could act on different
// values. The token endpoint refuses repeated parameters for the same
// reason (oauth.ParseTokenRequest). The message names the key by its
// path, e.g. grants["https://api.example.io"]. A body that is not JSON
// passes: the decoder after this reports that better.
func checkDuplicateKeys(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	err := walkValue(dec, "", 0)
	var dup *duplicateKey
	if errors.As(err, &dup) {
		return invalid("%s appears twice in the body; send each field once", dup.path)
	}
	if errors.Is(err, errTooDeep) {
		return invalid("the body nests deeper than %d levels", maxDepth)
	}
	return nil
}

type duplicateKey struct{ path string }

func (d *duplicateKey) Error() string { return "duplicate key " + d.path }

var errTooDeep = errors.New("too deep")

// walkValue reads one JSON value from dec, checking every object in it.
func walkValue(dec *json.Decoder, path string, depth int) error {
	if depth > maxDepth {
		return errTooDeep
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := kt.(string)
			child := childPath(path, key)
			if seen[key] {
				return &duplicateKey{path: child}
			}
			seen[key] = true
			if err := walkValue(dec, child, depth+1); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if err := walkValue(dec, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	}
	return nil
}

// childPath names key inside path: a plain field by name, any other key
// (an audience) quoted in brackets.
func childPath(path, key string) string {
	if path != "" && strings.ContainsAny(key, ":/{} .\"") {
		return fmt.Sprintf("%s[%q]", path, truncateKey(key))
	}
	if path == "" {
		return truncateKey(key)
	}
	return path + "." + truncateKey(key)
}

func truncateKey(k string) string {
	if len(k) > 64 {
		return k[:64] + "..."
	}
	return k
}

// readBody reads r whole; the handler bounds it with http.MaxBytesReader.
func readBody(r io.Reader) ([]byte, error) { return io.ReadAll(r) }
