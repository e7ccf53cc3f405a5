package admission

import (
	"errors"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/ssoerr"
)

// TestCanonicalEmailHostileForms: every way of writing alice@acme.test
// differently is either refused with its reason or is exactly the plain
// form's canonical string; none is another account.
func TestCanonicalEmailHostileForms(t *testing.T) {
	t.Parallel()
	plain, err := CanonicalEmail("alice@acme.test")
	if err != nil || plain != "alice@acme.test" {
		t.Fatalf("plain: %q %v", plain, err)
	}
	const (
		same   = ssoerr.Reason("") // canonicalizes to plain
		domain = ssoerr.ReasonDomainNotAllowed
		syntax = ssoerr.ReasonInvalidEmail
	)
	for _, c := range []struct {
		name, email string
		want        ssoerr.Reason
	}{
		{"upper-case local part", "ALICE@acme.test", same},
		{"upper-case domain", "alice@ACME.TEST", same},
		{"mixed case", "AlIcE@AcMe.TeSt", same},
		{"Kelvin sign", "\u212Alice@acme.test", syntax},
		{"trailing dot", "alice@acme.test.", domain},
		{"two trailing dots", "alice@acme.test..", domain},
		{"leading dot in domain", "alice@.acme.test", domain},
		{"empty label", "alice@acme..test", domain},
		{"fullwidth letters in domain", "alice@\uff41\uff43\uff4d\uff45.test", domain},
		{"fullwidth full stop U+FF0E", "alice@acme\uff0etest", domain},
		{"ideographic full stop U+3002", "alice@acme\u3002test", domain},
		{"halfwidth ideographic full stop U+FF61", "alice@acme\uff61test", domain},
		{"ZWSP in domain", "alice@ac\u200bme.test", domain},
		{"ZWJ in domain", "alice@acme\u200d.test", domain},
		{"ZWNJ in domain", "alice@ac\u200cme.test", domain},
		{"soft hyphen in domain", "alice@ac\u00adme.test", domain},
		{"bidi override in domain", "alice@\u202eacme.test", domain},
		{"bidi isolate in domain", "alice@acme\u2066.test", domain},
		{"LRM in domain", "alice@acme.test\u200e", domain},
		{"variation selector in domain", "alice@ac\ufe0fme.test", domain},
		{"ideographic variation selector", "alice@acme\U000E0100.test", domain},
		{"BOM in domain", "alice@\ufeffacme.test", domain},
		{"combining grapheme joiner", "alice@ac\u034fme.test", domain},
		{"Hangul filler", "alice@acme\u3164.test", domain},
		{"Cyrillic a in acme", "alice@\u0430cme.test", domain},
		{"Greek omicron in a Latin label", "alice@acme.c\u03bfm", domain},
		{"dotted capital I lower-cases differently in IDNA", "alice@\u0130acme.test", domain},
		{"percent-encoded domain", "alice@acme%2etest", domain},
		{"percent-encoded @", "alice%40acme.test@acme.test", syntax},
		{"percent in local part", "al%69ce@acme.test", syntax},
		{"leading hyphen label", "alice@-acme.test", domain},
		{"trailing hyphen label", "alice@acme-.test", domain},
		{"hyphens at 3 and 4", "alice@ac--me.test", domain},
		{"bogus punycode", "alice@xn--acme.test", domain},
		{"underscore in domain", "alice@ac_me.test", domain},
		{"address literal", "alice@[127.0.0.1]", domain},
		{"port", "alice@acme.test:443", domain},
		{"label over 63", "alice@" + strings.Repeat("a", 64) + ".test", domain},
		{"domain over 253", "a@" + strings.Repeat(strings.Repeat("a", 60)+".", 5) + "test", domain},
		{"quoted local part", `"alice"@acme.test`, syntax},
		{"quoted local part with @", `"alice@acme.test"@evil.test`, syntax},
		{"comment before", "(x)alice@acme.test", syntax},
		{"comment after", "alice(x)@acme.test", syntax},
		{"comment in domain", "alice@(x)acme.test", domain},
		{"display name", "Alice <alice@acme.test>", syntax},
		{"two @", "alice@acme.test@evil.test", syntax},
		{"no @", "alice.acme.test", syntax},
		{"empty", "", syntax},
		{"empty local part", "@acme.test", syntax},
		{"empty domain", "alice@", domain},
		{"leading space", " alice@acme.test", syntax},
		{"trailing space", "alice@acme.test ", domain},
		{"trailing newline", "alice@acme.test\n", domain},
		{"tab inside", "ali\tce@acme.test", syntax},
		{"NBSP", "alice\u00a0@acme.test", syntax},
		{"ideographic space", "alice@acme.test\u3000", domain},
		{"NUL", "alice\x00@acme.test", syntax},
		{"DEL", "alice\x7f@acme.test", syntax},
		{"C1 control", "alice\u0085@acme.test", syntax},
		{"ZWSP in local part", "ali\u200bce@acme.test", syntax},
		{"soft hyphen in local part", "ali\u00adce@acme.test", syntax},
		{"RLO in local part", "\u202ealice@acme.test", syntax},
		{"BOM before the address", "\ufeffalice@acme.test", syntax},
		{"variation selector in local part", "alice\ufe0e@acme.test", syntax},
		{"fullwidth letters in local part", "\uff41lice@acme.test", syntax},
		{"ligature in local part", "\ufb01ona@acme.test", syntax},
		{"long s in local part", "\u017fam@acme.test", syntax},
		{"dotted capital I in local part", "al\u0130ce@acme.test", syntax},
		{"Cyrillic a in local part", "\u0430lice@acme.test", syntax},
		{"private use", "alice\ue000@acme.test", syntax},
		{"not UTF-8", "alice\xff@acme.test", syntax},
		{"leading dot in local part", ".alice@acme.test", syntax},
		{"trailing dot in local part", "alice.@acme.test", syntax},
		{"two dots in local part", "al..ice@acme.test", syntax},
		{"backslash", `ali\ce@acme.test`, syntax},
		{"comma", "alice,bob@acme.test", syntax},
		{"local part over 64", strings.Repeat("a", 65) + "@acme.test", syntax},
		{"address over 254", strings.Repeat("a", 64) + "@" + strings.Repeat(strings.Repeat("a", 62)+".", 3) + "test", syntax},
	} {
		got, err := CanonicalEmail(c.email)
		switch c.want {
		case same:
			if err != nil || got != plain {
				t.Errorf("%s: %q -> %q, %v; want exactly %q", c.name, c.email, got, err, plain)
			}
		case domain, syntax:
			if err == nil {
				t.Errorf("%s: %q accepted as %q; want %s", c.name, c.email, got, c.want)
				continue
			}
			if r := ssoerr.ReasonOf(err); r != c.want || !errors.Is(err, ssoerr.ErrForbidden) || got != "" {
				t.Errorf("%s: %q refused with %q (%v), returned %q; want %s", c.name, c.email, r, err, got, c.want)
			}
		default:
			t.Fatalf("%s: bad case", c.name)
		}
	}
}

// TestCanonicalEmailDistinct: tags, dots and other letters are other
// mailboxes; equivalent spellings of one (case, NFC, U-label or A-label
// domain) are one canonical string.
func TestCanonicalEmailDistinct(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"alice+sales@acme.test":              "alice+sales@acme.test",
		"a.lice@acme.test":                   "a.lice@acme.test",
		"Alice.Smith+X@Acme.Test":            "alice.smith+x@acme.test",
		"o'brien@acme.test":                  "o'brien@acme.test",
		"jos\u00e9@acme.test":                "jos\u00e9@acme.test", // precomposed é
		"jose\u0301@acme.test":               "jos\u00e9@acme.test", // e + combining acute: the same person after NFC
		"JOS\u00c9@acme.test":                "jos\u00e9@acme.test",
		"carl@b\u00fccher.example":           "carl@xn--bcher-kva.example",
		"carl@B\u00dcCHER.example":           "carl@xn--bcher-kva.example",
		"carl@XN--BCHER-KVA.example":         "carl@xn--bcher-kva.example",
		"\u0438\u0432\u0430\u043d@acme.test": "\u0438\u0432\u0430\u043d@acme.test", // one script: fine
	} {
		got, err := CanonicalEmail(in)
		if err != nil || got != want {
			t.Errorf("%q -> %q, %v; want %q", in, got, err, want)
		}
		if again, err := CanonicalEmail(got); err != nil || again != got {
			t.Errorf("%q: the canonical form %q is not its own canonical form (%q, %v)", in, got, again, err)
		}
	}
	for _, pair := range [][2]string{{"alice@acme.test", "alice+x@acme.test"}, {"alice@acme.test", "a.lice@acme.test"}, {"alice@acme.test", "alice@acme.test.evil"}} {
		a, _ := CanonicalEmail(pair[0])
		b, _ := CanonicalEmail(pair[1])
		if a == b {
			t.Errorf("%q and %q are one person", pair[0], pair[1])
		}
	}
}
