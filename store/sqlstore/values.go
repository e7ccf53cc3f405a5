package sqlstore

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/ssokit/ssokit/store"
)

// Times are kept at store.Precision in UTC: PostgreSQL timestamptz,
// SQLite INTEGER microseconds since the Unix epoch. The zero time is NULL.
// A store keeps the years 1 to 9999.
var (
	minTime = time.Time{}
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
)

// stamp is the store's clock reading as the store keeps it.
func (s *Store) stamp() time.Time { return store.Stamp(s.now()) }

// timeArg is the column value of a record's time: NULL for the zero
// time, else t at store.Precision in UTC.
func (s *Store) timeArg(t time.Time) (any, error) {
	if t.IsZero() {
		return nil, nil
	}
	t = store.Stamp(t)
	if t.Before(minTime) || t.After(maxTime) {
		return nil, fmt.Errorf("sqlstore: time %v is outside the years 1 to 9999 a store keeps", t)
	}
	return s.encodeTime(t), nil
}

// instantArg is the column value of an expiry or of the clock's reading,
// never NULL: an expiry is rounded up to store.Precision (a value is
// never kept shorter than asked) and the clock's reading down (so an
// entry is judged expired no earlier than it is), both clamped to the
// years a store keeps.
func (s *Store) instantArg(t time.Time, roundUp bool) any {
	t = t.UTC()
	if r := t.Truncate(store.Precision); roundUp && !r.Equal(t) {
		t = r.Add(store.Precision)
	} else {
		t = r
	}
	if t.Before(minTime) {
		t = minTime
	}
	if t.After(maxTime) {
		t = maxTime
	}
	return s.encodeTime(t)
}

// nowArg is the clock's reading as a query parameter.
func (s *Store) nowArg() any { return s.instantArg(s.now(), false) }

// untilArg is an expiry as a query parameter.
func (s *Store) untilArg(t time.Time) any { return s.instantArg(t, true) }

func (s *Store) encodeTime(t time.Time) any {
	if s.d == dialectPostgres {
		return t
	}
	return t.UnixMicro()
}

// timeCol scans a time column of either engine.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*c.t = time.Time{}
	case int64:
		*c.t = time.UnixMicro(v).UTC()
	case time.Time:
		*c.t = store.Stamp(v)
	default:
		return fmt.Errorf("sqlstore: a time column holds %T", v)
	}
	return nil
}

// jsonCol scans a JSON column (NULL leaves the destination nil).
type jsonCol struct{ into any }

func (c jsonCol) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		return nil
	case []byte:
		return json.Unmarshal(v, c.into)
	case string:
		return json.Unmarshal([]byte(v), c.into)
	default:
		return fmt.Errorf("sqlstore: a JSON column holds %T", v)
	}
}

// jsonArg is the column value of a list or map: NULL for nil, else its
// JSON text (so nil and empty read back as they were written).
func jsonArg[T any](v T, isNil bool) (any, error) {
	if isNil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: encoding a list: %w", err)
	}
	return string(b), nil
}

// bytesCol scans a BLOB/bytea column: NULL is nil, an empty value is
// empty and not nil.
type bytesCol struct{ b *[]byte }

func (c bytesCol) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*c.b = nil
	case []byte:
		*c.b = append([]byte{}, v...)
	case string:
		*c.b = append([]byte{}, v...)
	default:
		return fmt.Errorf("sqlstore: a bytes column holds %T", v)
	}
	return nil
}

// bytesArg is the column value of a byte slice: NULL for nil.
func bytesArg(b []byte) any {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// keyArg is an expiring entry's key as a column value: the key's bytes,
// compared byte for byte by either engine (keys may hold NUL bytes and
// invalid UTF-8, which PostgreSQL text refuses).
func keyArg(k string) []byte { return append([]byte{}, k...) }
