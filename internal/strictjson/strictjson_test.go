package strictjson

import (
	"strings"
	"testing"
)

func TestCheckObject(t *testing.T) {
	ok := []string{
		`{}`, `{"sub":"a","org_id":"b"}`, ` {"a":{"b":1},"c":[{"b":2},{"b":3}]} `,
		`{"a":{"x":1},"b":{"x":2}}`, // the same name in sibling objects
	}
	for _, s := range ok {
		if err := CheckObject([]byte(s)); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	bad := map[string]string{
		`{"sub":"a","sub":"b"}`:       "appears twice",
		`{"sub":"a","SUB":"b"}`:       "differ only in case",
		`{"org_id":"a","Org_Id":"b"}`: "differ only in case",
		`{"kid":"a","\u212aid":"b"}`:  "differ only in case", // Kelvin sign folds to k
		`{"iss":"a","i\u017fs":"b"}`:  "differ only in case", // long s folds to s
		`{"a":{"x":1,"X":2}}`:         "differ only in case",
		`{"a":[{"x":1,"x":2}]}`:       "appears twice",
		`{"sub":"a"} {"sub":"b"}`:     "after the object",
		`{"sub":"a"}x`:                "",
		`["sub"]`:                     "not a JSON object",
		`"x"`:                         "not a JSON object",
		`{"sub":`:                     "",
		``:                            "",
		strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40): "nesting",
	}
	for s, want := range bad {
		err := CheckObject([]byte(s))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error containing %q", s, err, want)
		}
	}
}

func FuzzCheckObject(f *testing.F) {
	f.Add([]byte(`{"sub":"a","SUB":"b"}`))
	f.Add([]byte(`{"a":[1,{"b":null}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = CheckObject(b) // must not panic or hang
	})
}
