// Package strictjson checks a JSON document before a lenient decoder sees
// it. encoding/json, which every JWT library in Go decodes claims with,
// keeps the last of two members with the same name and matches member names
// to struct fields case-insensitively, so {"sub":"a","SUB":"b"} or
// {"org_id":"x","ORG_ID":"y"} mean whatever the decoder picks, and it
// decodes null into a number as zero. A token whose JSON another parser
// could read differently is refused here instead.
//
// The check is one pass over the bytes without allocating for documents
// whose member names are ASCII without escapes (every JWT header and claim
// set in practice), so it can sit on a verifier's cold path.
package strictjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxDepth bounds the nesting of objects and arrays.
const MaxDepth = 32

// CheckObject reports an error unless b is exactly one JSON object, valid
// by JSON's grammar (RFC 8259: literals, numbers, strings with their
// escapes and without control characters; invalid UTF-8 is left to the
// decoder, which replaces it), in which no object, at any depth, has two
// members whose names are equal or equal under Unicode case folding,
// nesting stays within MaxDepth, and nothing but white space follows.
func CheckObject(b []byte) error { return Check(b) }

// Check is CheckObject that also refuses a top-level member named in
// notNull (exactly, or equal under case folding) whose value is null: a
// claim where a number or a string belongs is then absent or typed, never
// a null that a decoder reads as zero.
func Check(b []byte, notNull ...string) error {
	s := scanner{b: b}
	s.ws()
	if s.i >= len(b) || b[s.i] != '{' {
		if s.i >= len(b) {
			return errors.New("strictjson: empty document")
		}
		return errors.New("strictjson: not a JSON object")
	}
	if err := s.object(1, notNull); err != nil {
		return err
	}
	s.ws()
	if s.i != len(b) {
		return errors.New("strictjson: data after the object")
	}
	return nil
}

type scanner struct {
	b []byte
	i int
}

// span is a member name's raw bytes (between the quotes); plain means ASCII
// without escapes.
type span struct {
	start, end int
	plain      bool
	// key, for a plain name, is its length and its first seven bytes in
	// upper case: two plain names that fold equal have the same key, so
	// names with different keys are told apart without comparing them.
	key uint64
}

var errEOF = errors.New("strictjson: unexpected end of JSON")

func (s *scanner) ws() {
	if s.i < len(s.b) && s.b[s.i] > ' ' {
		return // the common case: no white space at all
	}
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// object reads an object from its opening brace through its closing one.
// notNull applies to its members (only passed for the top level).
func (s *scanner) object(depth int, notNull []string) error {
	s.i++ // '{'
	var buf [24]span
	names := buf[:0]
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return nil
	}
	for {
		s.ws()
		if s.i >= len(s.b) {
			return errEOF
		}
		if s.b[s.i] != '"' {
			return errors.New("strictjson: member name is not a string")
		}
		name, err := s.str()
		if err != nil {
			return err
		}
		for _, prev := range names {
			if prev.plain && name.plain && prev.key != name.key {
				continue
			}
			if same, exact := s.equalFold(prev, name); same {
				if exact {
					return fmt.Errorf("strictjson: member %q appears twice", s.text(name))
				}
				return fmt.Errorf("strictjson: members %q and %q differ only in case", s.text(prev), s.text(name))
			}
		}
		names = append(names, name)
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return errors.New("strictjson: missing colon after a member name")
		}
		s.i++
		s.ws()
		isNull, err := s.value(depth)
		if err != nil {
			return err
		}
		if isNull && len(notNull) > 0 {
			for _, n := range notNull {
				if same, _ := s.equalFoldString(name, n); same {
					return fmt.Errorf("strictjson: member %q is null", s.text(name))
				}
			}
		}
		s.ws()
		if s.i >= len(s.b) {
			return errEOF
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return errors.New("strictjson: expected , or } in an object")
		}
	}
}

// value reads one value; it reports whether it was the literal null.
func (s *scanner) value(depth int) (bool, error) {
	if s.i >= len(s.b) {
		return false, errEOF
	}
	switch c := s.b[s.i]; {
	case c == '{' || c == '[':
		if depth >= MaxDepth {
			return false, fmt.Errorf("strictjson: nesting deeper than %d", MaxDepth)
		}
		if c == '{' {
			return false, s.object(depth+1, nil)
		}
		return false, s.array(depth + 1)
	case c == '"':
		_, err := s.str()
		return false, err
	case c == 't':
		return false, s.literal("true")
	case c == 'f':
		return false, s.literal("false")
	case c == 'n':
		return true, s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return false, s.number()
	}
	return false, fmt.Errorf("strictjson: invalid character %q", s.b[s.i])
}

func (s *scanner) array(depth int) error {
	s.i++ // '['
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return nil
	}
	for {
		s.ws()
		if _, err := s.value(depth); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) {
			return errEOF
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return errors.New("strictjson: expected , or ] in an array")
		}
	}
}

func (s *scanner) literal(word string) error {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return errors.New("strictjson: invalid literal")
	}
	s.i += len(word)
	return nil
}

// number reads a number, refusing what JSON's grammar does not allow (a
// leading zero, a bare sign or point, an exponent without digits).
func (s *scanner) number() error {
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	// JSON's grammar: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		s.i++
	case s.digits() == 0:
		return errNumber
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.digits() == 0 {
			return errNumber
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if s.digits() == 0 {
			return errNumber
		}
	}
	return nil
}

// errNumber refuses a number that is not JSON's.
var errNumber = errors.New("strictjson: invalid number")

// digits moves past decimal digits and says how many there were.
func (s *scanner) digits() int {
	n := 0
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}

// str reads a string from its opening quote and returns the span of its
// contents.
func (s *scanner) str() (span, error) {
	s.i++ // '"'
	sp := span{start: s.i, plain: true}
	for s.i < len(s.b) {
		i, b := s.i, s.b
		for i < len(b) && plainByte[b[i]] {
			i++
		}
		s.i = i
		if s.i >= len(s.b) {
			break
		}
		c := s.b[s.i]
		switch {
		case c == '"':
			sp.end = s.i
			s.i++
			if sp.plain {
				sp.key = nameKey(s.b[sp.start:sp.end])
			}
			return sp, nil
		case c == '\\':
			sp.plain = false
			if err := s.escape(); err != nil {
				return span{}, err
			}
		case c < 0x20:
			return span{}, errors.New("strictjson: control character in a string")
		default:
			if c >= utf8.RuneSelf {
				sp.plain = false
			}
			s.i++
		}
	}
	return span{}, errEOF
}

// plainByte marks the bytes a string can hold as they are: ASCII, not a
// control character, a quote or a backslash.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// nameKey is span.key for a plain name.
func nameKey(name []byte) uint64 {
	k := uint64(min(len(name), 255)) << 56
	for i := 0; i < len(name) && i < 7; i++ {
		k |= uint64(upper(name[i])) << (8 * i)
	}
	return k
}

// escape checks the escape at s.i (its backslash) as JSON defines them:
// one of \" \\ \/ \b \f \n \r \t, or \u and four hex digits; and moves
// past it.
func (s *scanner) escape() error {
	if s.i+1 >= len(s.b) {
		return errEOF
	}
	switch s.b[s.i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.i += 2
		return nil
	case 'u':
		if s.i+6 > len(s.b) {
			return errEOF
		}
		for _, h := range s.b[s.i+2 : s.i+6] {
			if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
				return errEscape
			}
		}
		s.i += 6
		return nil
	}
	return errEscape
}

// errEscape refuses an escape JSON does not define.
var errEscape = errors.New("strictjson: an invalid escape in a string")

// text is a name as a decoder reads it (escapes resolved, invalid UTF-8
// replaced).
func (s *scanner) text(sp span) string {
	raw := s.b[sp.start:sp.end]
	if sp.plain {
		return string(raw)
	}
	var out string
	quoted := make([]byte, 0, len(raw)+2)
	quoted = append(append(append(quoted, '"'), raw...), '"')
	if err := json.Unmarshal(quoted, &out); err != nil {
		return string(raw)
	}
	return out
}

// equalFold reports whether two names match under case folding, and
// whether they are exactly equal.
func (s *scanner) equalFold(a, b span) (same, exact bool) {
	if a.plain && b.plain {
		x, y := s.b[a.start:a.end], s.b[b.start:b.end]
		if len(x) != len(y) {
			return false, false
		}
		exact = true
		for i := range x {
			if x[i] != y[i] {
				exact = false
				if upper(x[i]) != upper(y[i]) {
					return false, false
				}
			}
		}
		return true, exact
	}
	// A name that is plain ASCII can still fold equal to one with escapes
	// or non-ASCII letters (the Kelvin sign folds to k, long s to s).
	x, y := s.text(a), s.text(b)
	return fold(x) == fold(y), x == y
}

func (s *scanner) equalFoldString(a span, name string) (same, exact bool) {
	if a.plain {
		x := s.b[a.start:a.end]
		if len(x) == len(name) {
			same = true
			for i := range x {
				if upper(x[i]) != upper(name[i]) {
					same = false
					break
				}
			}
			if same {
				return true, string(x) == name
			}
		}
	}
	x := s.text(a)
	return fold(x) == fold(name), x == name
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// fold maps each rune to the least rune of its Unicode simple case-folding
// orbit, so two names fold equal exactly when encoding/json would match
// them to the same field (it also folds K and the Kelvin sign, s and ſ).
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, s)
}
