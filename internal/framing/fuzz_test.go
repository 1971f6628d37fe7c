package framing

import "testing"

// FuzzScanner: any bytes, split anywhere, give the scanner the same
// verdict as in one piece, and never panic.
func FuzzScanner(f *testing.F) {
	f.Add([]byte("POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), uint(20))
	f.Add([]byte("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n0\r\nT: 1\r\n\r\nGET / HTTP/1.1\r\n\r\n"), uint(3))
	f.Add([]byte("POST / HTTP/1.1\nContent-Length: 2\n\nokGET / HTTP/1.1\nContent-Length: 1\nTransfer-Encoding: x\n\n"), uint(7))
	f.Fuzz(func(t *testing.T, data []byte, at uint) {
		var whole scanner
		want := whole.feed(data)
		cut := int(at % uint(len(data)+1))
		var split scanner
		got := split.feed(data[:cut])
		if !got {
			got = split.feed(data[cut:])
		}
		if got != want {
			t.Errorf("split at %d: got %v, want %v as in one piece", cut, got, want)
		}
	})
}
