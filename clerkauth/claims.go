package clerkauth

import (
	"encoding/json"
	"errors"
	"maps"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/ssokit/ssokit/internal/strictjson"
	"github.com/ssokit/ssokit/ssoerr"
)

// The verifier's cold path decodes a token's header and claims with the
// decoder below instead of encoding/json's reflection: one pass over a
// document strictjson.Check has already accepted, strings sliced from one
// copy of the payload. It reads exactly what json.Unmarshal would read into
// jwsHeader and wireClaims (member names matched exactly, else under case
// folding; null leaves a value as it was; a value of the wrong type is an
// error; escapes and invalid UTF-8 resolved the same way), and
// FuzzClaimsDecoder holds it to that, document by document, against
// encoding/json itself.

// errType is a value of a type its claim does not have.
var errType = errors.New("a value of the wrong type")

// members calls f with each member of the object that starts at s[i] (its
// brace) and returns the index after the object. s must have passed
// strictjson.Check: it is valid JSON, so the walk checks nothing.
func members(s string, i int, f func(name, val string) error) (int, error) {
	i++ // '{'
	for {
		i = skipWS(s, i)
		if s[i] == '}' {
			return i + 1, nil
		}
		if s[i] == ',' {
			i = skipWS(s, i+1)
		}
		end := skipValue(s, i)
		name := s[i:end]
		i = skipWS(s, end)
		i = skipWS(s, i+1) // ':'
		end = skipValue(s, i)
		if err := f(name, s[i:end]); err != nil {
			return 0, err
		}
		i = end
	}
}

// elements is members for an array: f gets each element and its index.
func elements(s string, f func(n int, val string) error) error {
	i, n := 1, 0 // '['
	for {
		i = skipWS(s, i)
		if s[i] == ']' {
			return nil
		}
		if s[i] == ',' {
			i = skipWS(s, i+1)
		}
		end := skipValue(s, i)
		if err := f(n, s[i:end]); err != nil {
			return err
		}
		i, n = end, n+1
	}
}

func skipWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index just after the value that starts at s[i].
func skipValue(s string, i int) int {
	switch s[i] {
	case '"':
		return skipString(s, i)
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch s[i] {
			case '"':
				i = skipString(s, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	}
	for i < len(s) {
		switch s[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

func skipString(s string, i int) int {
	for i++; s[i] != '"'; i++ {
		if s[i] == '\\' {
			i++
		}
	}
	return i + 1
}

// unquote reads a JSON string literal (quotes included) as encoding/json
// does. Without escapes and in valid UTF-8 it is a substring of raw.
func unquote(raw string) (string, error) {
	body := raw[1 : len(raw)-1]
	if strings.IndexByte(body, '\\') < 0 && utf8.ValidString(body) {
		return body, nil
	}
	var out string
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		return "", err
	}
	return out, nil
}

// field returns the index in names of the member name (raw, quotes
// included) as encoding/json matches a name to a field: exactly (index
// maps each name to its place), or else equal under case folding; -1 when
// none is.
func field(raw string, names []string, index func(string) int) int {
	name := raw[1 : len(raw)-1]
	if strings.IndexByte(name, '\\') >= 0 {
		var err error
		if name, err = unquote(raw); err != nil {
			return -1
		}
	}
	if i := index(name); i >= 0 {
		return i
	}
	if plainLower(name) {
		return -1 // no other spelling folds to a lower-case ASCII name
	}
	for i, n := range names {
		if strings.EqualFold(name, n) {
			return i
		}
	}
	return -1
}

// plainLower reports whether name is ASCII without upper-case letters.
func plainLower(name string) bool {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			return false
		}
	}
	return true
}

// setString reads a string member into dst; null leaves dst as it is.
func setString(dst *string, val string) error {
	switch val[0] {
	case '"':
		s, err := unquote(val)
		if err != nil {
			return err
		}
		*dst = s
		return nil
	case 'n':
		return nil
	}
	return errType
}

// setStringPtr reads a string member into a new *dst, as encoding/json
// does for a pointer; null sets it to nil.
func setStringPtr(dst **string, val string) error {
	if val == "null" {
		*dst = nil
		return nil
	}
	var v string
	if err := setString(&v, val); err != nil {
		return err
	}
	*dst = &v
	return nil
}

func isNumber(val string) bool { return val[0] == '-' || '0' <= val[0] && val[0] <= '9' }

// setFloat reads a number member into *dst, allocating it as encoding/json
// does for a pointer; null leaves it nil.
func setFloat(dst **float64, val string) error {
	if val == "null" {
		*dst = nil
		return nil
	}
	if !isNumber(val) {
		return errType
	}
	if n, ok := smallInt(val); ok {
		f := float64(n) // exact: below 2^53, as ParseFloat would read it
		*dst = &f
		return nil
	}
	f, err := strconv.ParseFloat(val, 64)
	if err != nil {
		return errType
	}
	*dst = &f
	return nil
}

// smallInt reads a number literal of at most 15 digits and nothing else,
// as every NumericDate Clerk writes is.
func smallInt(val string) (int64, bool) {
	if len(val) > 15 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(val); i++ {
		c := val[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// parseInt reads an integer literal; a fraction or exponent is refused,
// as encoding/json refuses it for an integer field.
func parseInt(val string) (int64, error) {
	if !isNumber(val) {
		return 0, errType
	}
	n, err := strconv.ParseInt(val, 10, 64)
	if err != nil {
		return 0, errType
	}
	return n, nil
}

// setRaw keeps a member's JSON text, as json.RawMessage does (a copy, null
// included).
func setRaw(dst *json.RawMessage, val string) { *dst = json.RawMessage(val) }

// headerNames are jwsHeader's members, in the order of its fields.
var headerNames = [...]string{"alg", "kid", "typ", "crit", "cat"}

// headerIndex, claimIndex and orgIndex give a member name's place in
// headerNames, claimNames and orgNames, or -1 (a switch: faster than a map
// on the cold path, and TestNameIndexes checks it against the lists).
func headerIndex(name string) int {
	switch name {
	case "alg":
		return 0
	case "kid":
		return 1
	case "typ":
		return 2
	case "crit":
		return 3
	case "cat":
		return 4
	}
	return -1
}

func claimIndex(name string) int {
	switch name {
	case "iss":
		return 0
	case "sub":
		return 1
	case "aud":
		return 2
	case "exp":
		return 3
	case "nbf":
		return 4
	case "iat":
		return 5
	case "jti":
		return 6
	case "v":
		return 7
	case "sid":
		return 8
	case "azp":
		return 9
	case "sts":
		return 10
	case "org_id":
		return 11
	case "org_slug":
		return 12
	case "org_role":
		return 13
	case "org_permissions":
		return 14
	case "act":
		return 15
	case "fva":
		return 16
	case "fea":
		return 17
	case "o":
		return 18
	case "email":
		return 19
	}
	return -1
}

func orgIndex(name string) int {
	switch name {
	case "id":
		return 0
	case "slg":
		return 1
	case "rol":
		return 2
	case "per":
		return 3
	case "fpm":
		return 4
	}
	return -1
}

// decodeHeader reads a JWS header that strictjson.Check accepted.
func decodeHeader(b []byte, h *jwsHeader) error {
	s := string(b)
	_, err := members(s, skipWS(s, 0), func(name, val string) error {
		switch field(name, headerNames[:], headerIndex) {
		case 0:
			return setString(&h.Alg, val)
		case 1:
			return setString(&h.Kid, val)
		case 2:
			return setStringPtr(&h.Typ, val)
		case 3:
			setRaw(&h.Crit, val)
		case 4:
			return setStringPtr(&h.Cat, val)
		}
		return nil
	})
	return err
}

// claimNames are wireClaims' members, in the order of its fields.
var claimNames = [...]string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "v", "sid", "azp", "sts",
	"org_id", "org_slug", "org_role", "org_permissions", "act", "fva", "fea", "o", "email"}

// decodeClaims reads a claim set that strictjson.Check accepted.
func decodeClaims(b []byte, wc *wireClaims) error {
	s := string(b)
	_, err := members(s, skipWS(s, 0), func(name, val string) error {
		switch field(name, claimNames[:], claimIndex) {
		case 0:
			return setString(&wc.Iss, val)
		case 1:
			return setString(&wc.Sub, val)
		case 2:
			setRaw(&wc.Aud, val)
		case 3:
			return setFloat(&wc.Exp, val)
		case 4:
			return setFloat(&wc.Nbf, val)
		case 5:
			return setFloat(&wc.Iat, val)
		case 6:
			return setString(&wc.Jti, val)
		case 7:
			if val == "null" {
				wc.V = nil
				return nil
			}
			n, err := parseInt(val)
			if err != nil {
				return err
			}
			v := int(n)
			wc.V = &v
		case 8:
			return setString(&wc.Sid, val)
		case 9:
			return setString(&wc.Azp, val)
		case 10:
			return setString(&wc.Sts, val)
		case 11:
			return setString(&wc.OrgID, val)
		case 12:
			return setString(&wc.OrgSlug, val)
		case 13:
			return setString(&wc.OrgRole, val)
		case 14:
			return setStrings(&wc.OrgPermissions, val)
		case 15:
			setRaw(&wc.Act, val)
		case 16:
			return setFva(&wc.Fva, val)
		case 17:
			return setString(&wc.Fea, val)
		case 18:
			return setOrg(wc, val)
		case 19:
			return setString(&wc.Email, val)
		}
		return nil
	})
	return err
}

// setStrings reads an array of strings (null elements stay ""); an empty
// array is an empty slice and null a nil one, as encoding/json reads them.
func setStrings(dst *[]string, val string) error {
	switch val[0] {
	case 'n':
		*dst = nil
		return nil
	case '[':
	default:
		return errType
	}
	out := []string{}
	err := elements(val, func(_ int, el string) error {
		var s string
		if err := setString(&s, el); err != nil {
			return err
		}
		out = append(out, s)
		return nil
	})
	if err != nil {
		return err
	}
	*dst = out
	return nil
}

// setFva reads fva into its two integers: elements past the second are
// ignored and missing ones are zero, as encoding/json fills an array.
func setFva(dst *[2]int64, val string) error {
	switch val[0] {
	case 'n':
		return nil
	case '[':
	default:
		return errType
	}
	var out [2]int64
	err := elements(val, func(n int, el string) error {
		if n >= len(out) || el == "null" {
			return nil
		}
		v, err := parseInt(el)
		out[n] = v
		return err
	})
	if err != nil {
		return err
	}
	*dst = out
	return nil
}

// orgNames are wireOrg's members, in the order of its fields.
var orgNames = [...]string{"id", "slg", "rol", "per", "fpm"}

// setOrg reads a v2 token's o claim.
func setOrg(wc *wireClaims, val string) error {
	switch val[0] {
	case 'n':
		wc.O = nil
		return nil
	case '{':
	default:
		return errType
	}
	o := &wireOrg{}
	wc.O = o
	_, err := members(val, 0, func(name, val string) error {
		switch field(name, orgNames[:], orgIndex) {
		case 0:
			return setString(&o.ID, val)
		case 1:
			return setString(&o.Slg, val)
		case 2:
			return setString(&o.Rol, val)
		case 3:
			return setString(&o.Per, val)
		case 4:
			return setString(&o.Fpm, val)
		}
		return nil
	})
	return err
}

// headerCache remembers the key IDs of the header segments of tokens whose
// signature verified: every token of a Clerk instance carries the same
// header, so the cold path decodes and checks it once per signing key. It
// holds at most maxHeaders segments, and only what a key the verifier
// trusts has signed, so forged tokens can neither fill it nor push the
// real header out.
type headerCache struct {
	m atomic.Pointer[map[string]string]
}

// maxHeaders bounds headerCache.
const maxHeaders = 16

// kid returns the key ID of a header segment, and whether it was
// remembered; a header not remembered is decoded and checked.
func (c *headerCache) kid(seg string) (kid string, known bool, err error) {
	if m := c.m.Load(); m != nil {
		if kid, ok := (*m)[seg]; ok {
			return kid, true, nil
		}
	}
	kid, err = headerKid(seg)
	return kid, false, err
}

// remember keeps a checked header segment whose token's signature
// verified, while there is room.
func (c *headerCache) remember(seg, kid string) {
	old := c.m.Load()
	if old != nil && len(*old) >= maxHeaders {
		return
	}
	m := make(map[string]string, maxHeaders)
	if old != nil {
		maps.Copy(m, *old)
	}
	m[seg] = kid
	c.m.CompareAndSwap(old, &m) // a lost race forgets this one until next time
}

// headerKid decodes and checks a JWS header segment and returns its kid.
func headerKid(seg string) (string, error) {
	hb, err := b64.DecodeString(seg)
	if err != nil {
		return "", invalidf(ssoerr.ReasonMalformed, "header: %v", err)
	}
	if err := strictjson.Check(hb, headerNotNull...); err != nil {
		return "", invalidf(ssoerr.ReasonMalformed, "header: %v", err)
	}
	var hdr jwsHeader
	if err := decodeHeader(hb, &hdr); err != nil {
		return "", invalidf(ssoerr.ReasonMalformed, "header: %v", err)
	}
	if hdr.Crit != nil {
		return "", invalid(ssoerr.ReasonCritical, "crit header present")
	}
	if hdr.Typ != nil && !strings.EqualFold(*hdr.Typ, "JWT") {
		return "", invalidf(ssoerr.ReasonType, "typ %q", *hdr.Typ)
	}
	if !sessionCategory(hdr.Cat) {
		// A JWT template's or a machine token's category: signed with the
		// same instance key, but not a session (Clerk's SDK signs these
		// out too).
		return "", invalidf(ssoerr.ReasonCategory, "cat %q is not a session token's category", *hdr.Cat)
	}
	if hdr.Alg != "RS256" {
		return "", invalidf(ssoerr.ReasonAlgorithm, "alg %q, key is RS256", hdr.Alg)
	}
	if hdr.Kid == "" {
		return "", invalid(ssoerr.ReasonMissingKeyID, "no kid header")
	}
	return hdr.Kid, nil
}
