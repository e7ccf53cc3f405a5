// Package strictjson checks a JSON document before a lenient decoder sees
// it. encoding/json, which every JWT library in Go decodes claims with,
// keeps the last of two members with the same name and matches member names
// to struct fields case-insensitively, so {"sub":"a","SUB":"b"} or
// {"org_id":"x","ORG_ID":"y"} mean whatever the decoder picks. A token whose
// JSON another parser could read differently is refused here instead.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// MaxDepth bounds the nesting of objects and arrays.
const MaxDepth = 32

// CheckObject reports an error unless b is exactly one JSON object in which
// no object, at any depth, has two members whose names are equal or equal
// under Unicode case folding, nesting stays within MaxDepth, and nothing
// but white space follows.
func CheckObject(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("strictjson: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("strictjson: not a JSON object")
	}
	if err := object(dec, 1); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("strictjson: data after the object")
	}
	return nil
}

// object reads members up to and including the closing brace.
func object(dec *json.Decoder, depth int) error {
	seen := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("strictjson: %w", err)
		}
		name, ok := tok.(string)
		if !ok {
			return errors.New("strictjson: member name is not a string")
		}
		f := fold(name)
		if prev, dup := seen[f]; dup {
			if prev == name {
				return fmt.Errorf("strictjson: member %q appears twice", name)
			}
			return fmt.Errorf("strictjson: members %q and %q differ only in case", prev, name)
		}
		seen[f] = name
		if err := value(dec, depth); err != nil {
			return err
		}
	}
	_, err := dec.Token() // '}'
	if err != nil {
		return fmt.Errorf("strictjson: %w", err)
	}
	return nil
}

func value(dec *json.Decoder, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("strictjson: %w", err)
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	if depth >= MaxDepth {
		return fmt.Errorf("strictjson: nesting deeper than %d", MaxDepth)
	}
	switch d {
	case '{':
		return object(dec, depth+1)
	case '[':
		for dec.More() {
			if err := value(dec, depth+1); err != nil {
				return err
			}
		}
		_, err := dec.Token() // ']'
		if err != nil {
			return fmt.Errorf("strictjson: %w", err)
		}
	}
	return nil
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
