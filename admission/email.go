package admission

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ssokit/ssokit/ssoerr"
	"golang.org/x/text/unicode/norm"
)

// Limits of an address (RFC 5321 §4.5.3.1, counted in bytes of the
// canonical form).
const (
	MaxEmailLength = 254
	MaxLocalLength = 64
)

// CanonicalEmail returns the one form of an email address that admission
// matches domains on, stores, and looks people up and keeps them unique
// by, so that one person cannot hold two accounts by writing their
// address differently:
//
//   - the local part in NFC, lower case; "+tags" and dots are kept (they
//     are distinct mailboxes);
//   - the domain in lower-case ASCII (IDNA A-labels), the form EmailDomain
//     returns and allowed_domains are stored in.
//
// Only an address already written in that form, up to letter case and
// the choice of U-labels or A-labels for the domain, is accepted. Anything
// else is refused, never mapped: a domain with a trailing dot, empty
// labels, leading or trailing hyphens, compatibility forms (fullwidth
// letters, U+FF0E, U+3002, U+FF61), invisible or formatting characters
// (ZWSP, ZWJ, ZWNJ, soft hyphen, bidi controls, variation selectors, BOM),
// labels mixing lookalike scripts, or percent-encoding is refused with
// ssoerr.ReasonDomainNotAllowed; an address that is not one plain
// mailbox (no @ or several, a quoted local part, comments, white space,
// control or invisible characters, compatibility forms, percent-encoding,
// dots at an end of the local part or doubled, over MaxEmailLength or a
// local part over MaxLocalLength) with ssoerr.ReasonInvalidEmail. Both are
// ssoerr.ErrForbidden.
func CanonicalEmail(email string) (string, error) {
	if len(email) > 4*MaxEmailLength || !utf8.ValidString(email) {
		return "", badEmail("not a valid UTF-8 address of sane length")
	}
	local, domain, ok := strings.Cut(email, "@")
	if !ok || strings.Contains(domain, "@") {
		return "", badEmail("not exactly one @")
	}
	l, why := canonicalLocal(local)
	if why != "" {
		return "", badEmail("local part %s", why)
	}
	d, why := canonicalEmailDomain(domain)
	if why != "" {
		return "", ssoerr.Newf(ssoerr.ErrForbidden, ssoerr.ReasonDomainNotAllowed, "email domain %q %s", domain, why)
	}
	if len(l) > MaxLocalLength {
		return "", badEmail("local part over %d bytes", MaxLocalLength)
	}
	c := l + "@" + d
	if len(c) > MaxEmailLength {
		return "", badEmail("over %d bytes", MaxEmailLength)
	}
	return c, nil
}

func badEmail(format string, args ...any) error {
	return ssoerr.Newf(ssoerr.ErrForbidden, ssoerr.ReasonInvalidEmail, "email: "+format, args...)
}

// atextSpecials are the ASCII characters besides letters and digits that
// a plain local part may hold (RFC 5322 atext, without "%", which would be
// a percent-encoding or the old source-route hack).
const atextSpecials = "!#$&'*+-/=?^_`{|}~."

// hidden reports runes that print as nothing or as space, or steer the
// text around them: controls, format characters (ZWSP, ZWJ, ZWNJ, soft
// hyphen, bidi controls, BOM), white space, private use, surrogates,
// variation selectors and the other default-ignorable code points, and
// U+FFFD.
func hidden(r rune) bool {
	return unicode.IsControl(r) || unicode.IsSpace(r) || unicode.In(r, unicode.Cf, unicode.Co, unicode.Cs, unicode.Z,
		unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point, unicode.Noncharacter_Code_Point) ||
		r == utf8.RuneError
}

// canonicalLocal is the local part in NFC and lower case, or why not.
func canonicalLocal(local string) (string, string) {
	if local == "" {
		return "", "is empty"
	}
	for _, r := range local {
		switch {
		case r < utf8.RuneSelf:
			if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune(atextSpecials, r)) {
				return "", "holds " + quoteRune(r) + " (quoted parts, comments, white space and percent-encoding are refused)"
			}
		case hidden(r):
			return "", "holds the invisible or control character " + quoteRune(r)
		case !unicode.IsGraphic(r):
			return "", "holds the unprintable " + quoteRune(r)
		case unicode.ToLower(r) < utf8.RuneSelf:
			return "", "holds " + quoteRune(r) + ", which lower-cases to ASCII" // U+0130 İ -> i
		}
	}
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return "", "has a dot at an end or two in a row"
	}
	c := strings.ToLower(norm.NFC.String(local))
	if !norm.NFC.IsNormalString(c) || norm.NFKC.String(c) != c {
		return "", "holds compatibility forms (fullwidth letters, ligatures, ...)"
	}
	for atom := range strings.FieldsFuncSeq(c, func(r rune) bool { return r < utf8.RuneSelf && !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if mixedScripts(atom) {
			return "", "mixes scripts in one word (a lookalike of another address?)"
		}
	}
	return c, ""
}

// canonicalEmailDomain is the domain of an address in lower-case ASCII,
// or why it is refused. It must be written in its canonical form, as
// ASCII (A-labels) or as U-labels, up to letter case: every spelling that
// IDNA would merely map to it (fullwidth, ideographic full stops, ignored
// characters) is refused rather than merged.
func canonicalEmailDomain(d string) (string, string) {
	if d == "" {
		return "", "is empty"
	}
	if strings.HasSuffix(d, ".") {
		return "", "ends in a dot"
	}
	for _, r := range d {
		switch {
		case r < utf8.RuneSelf:
			if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '.') {
				return "", "holds " + quoteRune(r) + " (a host name is letters, digits, hyphens and dots)"
			}
		case hidden(r):
			return "", "holds the invisible or control character " + quoteRune(r)
		}
	}
	ascii, ok := normalizeDomain(d)
	if !ok {
		return "", "is not a domain name"
	}
	uni, err := idnaProfile.ToUnicode(ascii)
	if err != nil {
		return "", "is not a domain name"
	}
	if written := strings.ToLower(norm.NFC.String(d)); written != ascii && written != uni {
		return "", "is not written in its canonical form " + ascii
	}
	if len(ascii) > 253 {
		return "", "is over 253 bytes"
	}
	for label := range strings.SplitSeq(ascii, ".") {
		if len(label) > 63 {
			return "", "has a label over 63 bytes"
		}
	}
	for label := range strings.SplitSeq(uni, ".") {
		if mixedScripts(label) {
			return "", "mixes scripts in one label (a lookalike of another name?)"
		}
	}
	return ascii, ""
}

func quoteRune(r rune) string {
	if r < utf8.RuneSelf && unicode.IsPrint(r) {
		return "'" + string(r) + "'"
	}
	return fmt.Sprintf("%U", r)
}
