// Package jsonw writes JSON by hand into byte slices, byte for byte as
// encoding/json would: strings escaped the same way (checked against it by
// FuzzAppendString) and object keys. It is for the few documents on a hot
// path (a token's claims and answer, the audit spool's lines), where
// encoding/json's reflection costs allocations; everything else uses
// encoding/json. It reads no JSON and imports only the standard library.
package jsonw
