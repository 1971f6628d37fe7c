package catalog

import (
	"encoding/binary"
	"hash/maphash"
	"iter"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gatehouse/gatehouse/internal/store"
)

// clientTable holds clients compactly, because a node may hold a million
// of them: each client is one record of varint-encoded fields in large
// append-only byte chunks (no pointers, so the garbage collector marks a
// chunk without scanning it), its tenant, environment and method strings
// and its grants are interned (clients share a handful of grant sets), and
// the index maps an id, whose bytes live in the record, to the record's
// place. A record is written once and never changed: an update appends a
// new one, and strings handed out point into the chunk, which the garbage
// collector keeps alive while they do.
//
// A table is not safe for concurrent writes; the catalog's locks guard it.
// Lookups may decode concurrently with each other.
type clientTable struct {
	// index maps a hash of a client id to its record (chunk<<32 | offset):
	// a map without pointers, which the garbage collector does not scan
	// however many clients it holds. The rare id whose hash another id
	// already holds goes to overflow.
	index    map[uint64]uint64
	overflow map[string]uint64
	seed     maphash.Seed
	hashOf   func(string) uint64 // tests only: nil is maphash with seed
	chunks   [][]byte
	strs     interner
	grants   grantSets
	live     int // bytes of records the index points at
	dead     int // bytes of records replaced or deleted
	buf      []byte
	// hot holds the clients decoded lately, by record, so a client that
	// asks for tokens is decoded once and keeps one *store.Client until it
	// changes (a new record): the reuse window compares those pointers.
	hot atomic.Pointer[hotClients]
}

// hotClients is a bounded set of decoded clients; past hotMax it starts
// over.
type hotClients struct {
	m sync.Map // record ref -> *store.Client
	n atomic.Int64
}

const hotMax = 16384

// chunkSize is the size of one chunk of records (a bigger record gets a
// chunk of its own).
const chunkSize = 1 << 20

func newClientTable(n int) *clientTable {
	t := &clientTable{index: make(map[uint64]uint64, n), overflow: map[string]uint64{}, seed: maphash.MakeSeed(), strs: newInterner(), grants: newGrantSets()}
	t.hot.Store(&hotClients{})
	return t
}

func (t *clientTable) len() int { return len(t.index) + len(t.overflow) }

// find returns the record of id.
func (t *clientTable) find(id string) (uint64, bool) {
	if ref, ok := t.index[t.hash(id)]; ok && t.idAt(ref) == id {
		return ref, true
	}
	ref, ok := t.overflow[id]
	return ref, ok
}

func (t *clientTable) hash(id string) uint64 {
	if t.hashOf != nil {
		return t.hashOf(id)
	}
	return maphash.String(t.seed, id)
}

// idAt is the id of the record at ref (its first field).
func (t *clientTable) idAt(ref uint64) string {
	r := reader{b: t.record(ref)}
	return r.str()
}

// put adds or replaces c.
func (t *clientTable) put(c *store.Client) {
	t.buf = t.encode(t.buf[:0], c)
	if len(t.chunks) == 0 || cap(t.chunks[len(t.chunks)-1])-len(t.chunks[len(t.chunks)-1]) < len(t.buf) {
		t.chunks = append(t.chunks, make([]byte, 0, max(chunkSize, len(t.buf))))
	}
	ci := len(t.chunks) - 1
	off := len(t.chunks[ci])
	t.chunks[ci] = append(t.chunks[ci], t.buf...)
	ref := uint64(ci)<<32 | uint64(off)
	t.remove(c.ID)
	h := t.hash(c.ID)
	if _, taken := t.index[h]; taken {
		t.overflow[t.idAt(ref)] = ref // the key shares the record's bytes
	} else {
		t.index[h] = ref
	}
	t.live += len(t.buf)
	t.maybeCompact()
}

// remove drops the client id, if held.
func (t *clientTable) remove(id string) {
	ref, ok := t.find(id)
	if !ok {
		return
	}
	size := t.recordSize(ref)
	if _, over := t.overflow[id]; over {
		delete(t.overflow, id)
	} else {
		delete(t.index, t.hash(id))
	}
	t.live -= size
	t.dead += size
}

// get decodes the client id into a new Client.
func (t *clientTable) get(id string) (*store.Client, bool) {
	ref, ok := t.find(id)
	if !ok {
		return nil, false
	}
	hot := t.hot.Load()
	if c, ok := hot.m.Load(ref); ok {
		return c.(*store.Client), true
	}
	c := &store.Client{}
	t.decode(t.record(ref), c)
	if got, loaded := hot.m.LoadOrStore(ref, c); loaded {
		return got.(*store.Client), true
	}
	if hot.n.Add(1) > hotMax {
		t.hot.CompareAndSwap(hot, &hotClients{})
	}
	return c, true
}

func (t *clientTable) record(ref uint64) []byte { return t.chunks[ref>>32][uint32(ref):] }

func (t *clientTable) recordSize(ref uint64) int {
	var c store.Client
	return t.decode(t.record(ref), &c)
}

// maybeCompact rewrites the records into fresh chunks once more than half
// the bytes belong to replaced ones (after many updates between reloads).
func (t *clientTable) maybeCompact() {
	if t.dead < chunkSize || t.dead < t.live {
		return
	}
	fresh := &clientTable{index: make(map[uint64]uint64, len(t.index)), overflow: map[string]uint64{}, seed: t.seed, hashOf: t.hashOf, strs: t.strs, grants: t.grants}
	for _, refs := range []iter.Seq[uint64]{maps.Values(t.index), maps.Values(t.overflow)} {
		for ref := range refs {
			var c store.Client
			t.decode(t.record(ref), &c)
			fresh.put(&c)
		}
	}
	t.index, t.overflow, t.chunks, t.live, t.dead = fresh.index, fresh.overflow, fresh.chunks, fresh.live, fresh.dead
	t.hot.Store(&hotClients{}) // records moved: the old refs mean nothing now
}

func (t *clientTable) encode(b []byte, c *store.Client) []byte {
	b = putString(b, c.ID)
	b = putString(b, c.Name)
	b = binary.AppendUvarint(b, t.strs.id(c.Tenant))
	b = binary.AppendUvarint(b, t.strs.id(c.Environment))
	b = binary.AppendUvarint(b, t.grants.id(c.Grants))
	b = putBool(b, c.Disabled)
	b = binary.AppendVarint(b, int64(c.TokenTTL))
	b = binary.AppendVarint(b, c.Limits.RatePerSecond)
	b = binary.AppendVarint(b, c.Limits.QuotaHour)
	b = binary.AppendVarint(b, c.Limits.QuotaDay)
	b = binary.AppendUvarint(b, t.strs.id(c.Limits.Mode))
	b = binary.AppendUvarint(b, t.strs.id(c.Auth.Method))
	b = putString(b, c.Auth.JWKS)
	b = putString(b, c.Auth.JWKSURI)
	b = binary.AppendUvarint(b, t.strs.id(c.Auth.TLSSubjectKind))
	b = putString(b, c.Auth.TLSSubject)
	b = putBool(b, c.Auth.RequireDPoP)
	b = putTime(b, c.CreatedAt)
	b = putTime(b, c.UpdatedAt)
	b = putTime(b, c.TokensNotBefore)
	if c.Secrets == nil {
		return binary.AppendUvarint(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(c.Secrets))+1)
	for _, s := range c.Secrets {
		b = putString(b, s.ID)
		b = putString(b, s.Hash)
		b = putTime(b, s.CreatedAt)
		b = putBool(b, s.ExpiresAt != nil)
		if s.ExpiresAt != nil {
			b = putTime(b, *s.ExpiresAt)
		}
	}
	return b
}

// decode fills c from rec and returns the record's length.
func (t *clientTable) decode(rec []byte, c *store.Client) int {
	r := reader{b: rec}
	c.ID = r.str()
	c.Name = r.str()
	c.Tenant = t.strs.str(r.uvarint())
	c.Environment = t.strs.str(r.uvarint())
	c.Grants = t.grants.set(r.uvarint())
	c.Disabled = r.bool()
	c.TokenTTL = time.Duration(r.varint())
	c.Limits = store.Limits{RatePerSecond: r.varint(), QuotaHour: r.varint(), QuotaDay: r.varint(), Mode: t.strs.str(r.uvarint())}
	c.Auth.Method = t.strs.str(r.uvarint())
	c.Auth.JWKS = r.str()
	c.Auth.JWKSURI = r.str()
	c.Auth.TLSSubjectKind = t.strs.str(r.uvarint())
	c.Auth.TLSSubject = r.str()
	c.Auth.RequireDPoP = r.bool()
	c.CreatedAt = r.time()
	c.UpdatedAt = r.time()
	c.TokensNotBefore = r.time()
	if n := r.uvarint(); n > 0 {
		c.Secrets = make([]store.Secret, n-1)
		for i := range c.Secrets {
			s := &c.Secrets[i]
			s.ID, s.Hash, s.CreatedAt = r.str(), r.str(), r.time()
			if r.bool() {
				exp := r.time()
				s.ExpiresAt = &exp
			}
		}
	}
	return r.off
}

func putString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func putBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// putTime keeps the instant to the nanosecond; times come back in UTC, as
// the store returns them.
func putTime(b []byte, v time.Time) []byte {
	return binary.AppendUvarint(binary.AppendVarint(b, v.Unix()), uint64(v.Nanosecond()))
}

// reader decodes a record that encode wrote (so it never fails).
type reader struct {
	b   []byte
	off int
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b[r.off:])
	r.off += n
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b[r.off:])
	r.off += n
	return v
}

func (r *reader) bool() bool {
	r.off++
	return r.b[r.off-1] == 1
}

// str returns a string that shares the record's bytes (records never
// change once written).
func (r *reader) str() string {
	n := int(r.uvarint())
	if n == 0 {
		return ""
	}
	s := unsafe.String(&r.b[r.off], n)
	r.off += n
	return s
}

func (r *reader) time() time.Time {
	sec := r.varint()
	return time.Unix(sec, int64(r.uvarint())).UTC()
}

// interner numbers the few distinct strings that many clients repeat.
type interner struct {
	ids  map[string]uint64
	strs []string
}

func newInterner() interner {
	return interner{ids: map[string]uint64{"": 0}, strs: []string{""}}
}

func (in *interner) id(s string) uint64 {
	if id, ok := in.ids[s]; ok {
		return id
	}
	s = strings.Clone(s)
	in.ids[s] = uint64(len(in.strs))
	in.strs = append(in.strs, s)
	return in.ids[s]
}

func (in *interner) str(id uint64) string { return in.strs[id] }

// grantSets numbers distinct grant maps; clients with equal grants share
// one map (the catalog's values are read-only).
type grantSets struct {
	ids  map[string]uint64
	sets []map[string][]string
	key  []byte
}

func newGrantSets() grantSets {
	return grantSets{ids: map[string]uint64{"nil": 0}, sets: []map[string][]string{nil}}
}

func (g *grantSets) id(m map[string][]string) uint64 {
	if m == nil {
		return 0
	}
	g.key = canonicalGrants(g.key[:0], m)
	if id, ok := g.ids[string(g.key)]; ok {
		return id
	}
	cp := make(map[string][]string, len(m))
	for aud, scopes := range m {
		cp[strings.Clone(aud)] = cloneScopes(scopes)
	}
	id := uint64(len(g.sets))
	g.ids[string(g.key)] = id
	g.sets = append(g.sets, cp)
	return id
}

func (g *grantSets) set(id uint64) map[string][]string { return g.sets[id] }

// canonicalGrants writes m with its audiences sorted, telling a nil scope
// list from an empty one (JSON null from []), so equal maps share a key.
func canonicalGrants(b []byte, m map[string][]string) []byte {
	auds := make([]string, 0, len(m))
	for aud := range m {
		auds = append(auds, aud)
	}
	slices.Sort(auds)
	b = append(b, '{')
	for _, aud := range auds {
		b = putString(b, aud)
		scopes := m[aud]
		if scopes == nil {
			b = binary.AppendUvarint(b, 0)
			continue
		}
		b = binary.AppendUvarint(b, uint64(len(scopes))+1)
		for _, s := range scopes {
			b = putString(b, s)
		}
	}
	return b
}

func cloneScopes(s []string) []string {
	if s == nil {
		return nil
	}
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strings.Clone(v)
	}
	return out
}
