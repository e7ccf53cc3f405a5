package strictjson

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCheckObject(t *testing.T) {
	ok := []string{
		`{}`, `{"sub":"a","org_id":"b"}`, ` {"a":{"b":1},"c":[{"b":2},{"b":3}]} `,
		`{"a":{"x":1},"b":{"x":2}}`,                             // the same name in sibling objects
		`{"org_permissions":1,"org_permissionz":2,"org_per":3}`, // a shared prefix is not a match
	}
	for _, s := range ok {
		if err := CheckObject([]byte(s)); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	bad := map[string]string{
		`{"sub":"a","sub":"b"}`:                     "appears twice",
		`{"sub":"a","SUB":"b"}`:                     "differ only in case",
		`{"org_id":"a","Org_Id":"b"}`:               "differ only in case",
		`{"kid":"a","\u212aid":"b"}`:                "differ only in case", // Kelvin sign folds to k
		`{"iss":"a","i\u017fs":"b"}`:                "differ only in case", // long s folds to s
		`{"a":{"x":1,"X":2}}`:                       "differ only in case",
		`{"org_permissions":1,"ORG_PERMISSIONS":2}`: "differ only in case", // longer than a key holds
		`{"org_permissions":1,"org_permissions":2}`: "appears twice",
		`{"a":[{"x":1,"x":2}]}`:                     "appears twice",
		`{"sub":"a"} {"sub":"b"}`:                   "after the object",
		`{"sub":"a"}x`:                              "",
		`["sub"]`:                                   "not a JSON object",
		`"x"`:                                       "not a JSON object",
		`{"sub":`:                                   "",
		``:                                          "empty",
		`{"a":"x\u0000","A":1}`:                     "differ only in case",
		`{"a\u0062":1,"ab":2}`:                      "appears twice", // an escape spells the same name
		`{"\u0053UB":1,"sub":2}`:                    "differ only in case",
		`{"a":1,}`:                                  "",
		`{"a" 1}`:                                   "colon",
		`{"a":tru}`:                                 "literal",
		`{"a":"\u0001` + "\x01" + `"}`:              "control character",
		strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40): "nesting",
	}
	for s, want := range bad {
		err := CheckObject([]byte(s))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error containing %q", s, err, want)
		}
	}
}

func TestCheckNotNull(t *testing.T) {
	names := []string{"exp", "nbf", "iat", "v"}
	for _, s := range []string{`{"exp":null}`, `{"sub":"a","NBF":null}`, `{"v":null}`, ` {"iat" : null }`} {
		if err := Check([]byte(s), names...); err == nil || !strings.Contains(err.Error(), "is null") {
			t.Errorf("%s: %v, want a null refusal", s, err)
		}
	}
	// null elsewhere (another member, nested, in an array) is allowed.
	for _, s := range []string{`{"act":null,"exp":1}`, `{"o":{"exp":null}}`, `{"exp":1,"a":[null]}`} {
		if err := Check([]byte(s), names...); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	if err := Check([]byte(`{"exp":null}`)); err != nil {
		t.Errorf("without names null is a value like any other: %v", err)
	}
}

func TestCheckDoesNotAllocate(t *testing.T) {
	b := []byte(`{"azp":"https://app.example.com","exp":1796083723,"fva":[0,-1],"iat":1796083663,"iss":"https://clerk.example.com","nbf":1796083653,"o":{"id":"org_1","rol":"admin","slg":"acme"},"sid":"sess_1","sub":"user_1","v":2}`)
	if n := testing.AllocsPerRun(100, func() {
		if err := Check(b, "exp", "nbf", "iat", "v"); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("%v allocations per check of a claim set", n)
	}
}

func BenchmarkCheck(b *testing.B) {
	doc := []byte(`{"azp":"https://app.example.com","exp":1796083723,"fva":[0,-1],"iat":1796083663,"iss":"https://clerk.example.com","nbf":1796083653,"o":{"id":"org_1","rol":"admin","slg":"acme"},"sid":"sess_1","sub":"user_1","v":2}`)
	for b.Loop() {
		_ = Check(doc, "exp", "nbf", "iat", "v")
	}
}

// FuzzCheckObject: what the check accepts is valid JSON whose names a
// decoder reads as the check did (none folding together).
func FuzzCheckObject(f *testing.F) {
	f.Add([]byte(`{"sub":"a","SUB":"b"}`))
	f.Add([]byte(`{"a":[1,{"b":null}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if CheckObject(b) != nil { // must not panic or hang
			return
		}
		if !json.Valid(b) {
			t.Fatalf("%q: accepted, but it is not JSON", b)
		}
		// Accepted and valid: a decoder sees exactly the names the check
		// saw, so no two top-level names fold together.
		var m map[string]json.RawMessage
		if json.Unmarshal(b, &m) != nil {
			return
		}
		seen := map[string]bool{}
		for k := range m {
			if seen[fold(k)] {
				t.Fatalf("%q: names fold together but the check passed", b)
			}
			seen[fold(k)] = true
		}
	})
}
