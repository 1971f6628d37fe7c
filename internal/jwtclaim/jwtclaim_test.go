package jwtclaim

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestAudience(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Audience
		ok   bool
	}{
		{`"https://a"`, Audience{"https://a"}, true},
		{`["a","b"]`, Audience{"a", "b"}, true},
		{`""`, nil, true},
		{`1`, nil, false},
		{`[1]`, nil, false},
	} {
		var a Audience
		err := json.Unmarshal([]byte(tc.in), &a)
		if (err == nil) != tc.ok || (tc.ok && !reflect.DeepEqual(a, tc.want)) {
			t.Errorf("%s: got %v, %v; want %v, ok %v", tc.in, a, err, tc.want, tc.ok)
		}
	}
}

func TestNumericDate(t *testing.T) {
	var d NumericDate
	if err := json.Unmarshal([]byte(`1700000000.5`), &d); err != nil || !d.T.Equal(time.Unix(1700000000, 5e8)) {
		t.Errorf("a fraction: got %v, %v", d.T, err)
	}
	for _, bad := range []string{`-1`, `1e300`, `"1"`} {
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("%s: got no error", bad)
		} else if bad != `"1"` && !errors.Is(err, ErrNumericDate) {
			t.Errorf("%s: got %v, want ErrNumericDate", bad, err)
		}
	}
}
