package clerkauth

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssoerr"
)

// mintRaw signs a header and a payload given as JSON text, so a test can
// write what no encoder would: duplicate members, nulls.
func mintRaw(t testing.TB, k *rsa.PrivateKey, header, payload string) string {
	t.Helper()
	in := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	d := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// TestVerifyStrictJSON: a token another JSON parser could read differently
// is refused, in the header and in the payload, and a null where a number
// or string belongs is refused rather than read as zero or absent.
func TestVerifyStrictJSON(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testKid, nil)
	now := f.clk.Now()
	claims := func(extra string) string {
		return `{"azp":"` + testAzp + `","iss":"` + testIssuer + `","sub":"user_1","sid":"sess_1",` +
			`"exp":` + itoa(now.Add(time.Minute).Unix()) + `,"iat":` + itoa(now.Unix()) + extra + `}`
	}
	goodHdr := `{"alg":"RS256","kid":"` + testKid + `","typ":"JWT"}`
	if _, err := f.v.Verify(context.Background(), mintRaw(t, f.keys[0], goodHdr, claims(""))); err != nil {
		t.Fatalf("the plain token is refused: %v", err)
	}
	cases := map[string]struct{ hdr, payload string }{
		"duplicate sub":               {goodHdr, claims(`,"sub":"user_admin"`)},
		"SUB beside sub":              {goodHdr, claims(`,"SUB":"user_admin"`)},
		"Sub beside sub":              {goodHdr, claims(`,"Sub":"user_admin"`)},
		"escaped duplicate":           {goodHdr, claims(`,"s\u0075b":"user_admin"`)},
		"duplicate org_role":          {goodHdr, claims(`,"org_role":"org:member","org_role":"org:admin"`)},
		"ORG_ID beside org_id":        {goodHdr, claims(`,"org_id":"org_1","ORG_ID":"org_2"`)},
		"nested duplicate in o":       {goodHdr, claims(`,"v":2,"o":{"id":"org_1","rol":"member","rol":"admin"}`)},
		"nested case in o":            {goodHdr, claims(`,"v":2,"o":{"id":"org_1","ID":"org_2"}`)},
		"Kelvin sign in a name":       {goodHdr, claims(`,"\u212aid":"x","kid":"y"`)},
		"null exp":                    {goodHdr, claims(`,"nbf":null`)},
		"null v":                      {goodHdr, claims(`,"v":null`)},
		"null iss":                    {goodHdr, claims(`,"azp":null`)},
		"null fva":                    {goodHdr, claims(`,"fva":null`)},
		"null o":                      {goodHdr, claims(`,"v":2,"o":null`)},
		"header duplicate kid":        {`{"alg":"RS256","kid":"` + testKid + `","kid":"other","typ":"JWT"}`, claims("")},
		"header ALG beside alg":       {`{"alg":"RS256","ALG":"none","kid":"` + testKid + `"}`, claims("")},
		"header null typ":             {`{"alg":"RS256","kid":"` + testKid + `","typ":null}`, claims("")},
		"header trailing data":        {goodHdr + `{}`, claims("")},
		"payload not an object":       {goodHdr, `["sub"]`},
		"payload deeply nested value": {goodHdr, claims(`,"x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40))},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := f.v.Verify(context.Background(), mintRaw(t, f.keys[0], c.hdr, c.payload))
			wantReason(t, err, ssoerr.ErrInvalidToken, ssoerr.ReasonMalformed)
		})
	}
}

// TestVerifyV2NeverReadsV1OrgClaims: a v2 token's organization is its o
// claim; top-level v1 claims beside it are ignored, and a v2 token without
// o has no organization even if it carries v1 claims.
func TestVerifyV2NeverReadsV1OrgClaims(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testKid, nil)
	now := f.clk.Now()
	v1Org := []any{"org_id", "org_evil", "org_slug", "evil", "org_role", "org:admin", "org_permissions", []string{"org:sys:manage"}}
	p, err := f.v.Verify(context.Background(), mint(t, f.keys[0], hdr(testKid), with(with(v2Claims(now), "o", nil), v1Org...)))
	if err != nil {
		t.Fatal(err)
	}
	if p.Org.ID != "" || p.Org.Role != "" || len(p.Org.Permissions) != 0 || p.Claims.Version != 2 {
		t.Errorf("a v2 token without o read v1 claims: %+v", p.Org)
	}
	p, err = f.v.Verify(context.Background(), mint(t, f.keys[0], hdr(testKid), with(v2Claims(now), v1Org...)))
	if err != nil {
		t.Fatal(err)
	}
	if p.Org.ID != "org_2" || p.Org.Role != "org:admin" {
		t.Errorf("a v2 token's org came from v1 claims: %+v", p.Org)
	}
	for _, v := range []int{0, 3, -1} {
		_, err := f.v.Verify(context.Background(), mint(t, f.keys[0], hdr(testKid), with(v2Claims(now), "v", v)))
		wantReason(t, err, ssoerr.ErrInvalidToken, ssoerr.ReasonMalformed)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
