package clerkauth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/internal/strictjson"
	"github.com/ssokit/ssokit/ssoerr"
)

// claimsSeeds are claim sets and headers whose reading is easy to get
// wrong: case-folded and escaped names, escapes and invalid UTF-8 in
// values, nulls where they are allowed, values of the wrong type, arrays
// longer and shorter than their field, numbers out of range.
var claimsSeeds = []string{
	`{"iss":"https://clerk.test","sub":"user_1","sid":"sess_1","exp":1800000060,"iat":1800000000,"azp":"https://app.test"}`,
	`{"v":2,"o":{"id":"org_1","slg":"acme","rol":"admin","per":"read,manage","fpm":"3"},"fea":"o:billing"}`,
	`{"org_id":"org_1","org_slug":"acme","org_role":"org:admin","org_permissions":["org:a",null,"org:\u0062"]}`,
	`{"ISS":"x","Sub":"y","\u212aid":"k","ſid":"s","EXP":5}`,
	`{"s\u0075b":"user_\u00e9","email":"p\u00e9@x.test","jti":"\ud800"}`,
	"{\"email\":\"\xff\xfe@x.test\",\"sub\":\"\xc3\"}",
	`{"aud":["a","b"],"act":null,"fva":[1,2,3],"sts":"active"}`,
	`{"aud":"a","act":{"sub":"user_2"},"fva":[7]}`,
	`{"fva":[],"org_permissions":[]}`,
	`{"fva":[1.5,2]}`, `{"fva":[1,"2"]}`, `{"fva":[1,2,"x"]}`, `{"fva":{}}`, `{"fva":[null,3]}`,
	`{"v":1.0}`, `{"v":1e0}`, `{"v":-0}`, `{"v":99999999999999999999}`, `{"v":"2"}`,
	`{"exp":1e400}`, `{"exp":"1800000000"}`, `{"exp":-0.5e-3}`, `{"exp":true}`,
	`{"iss":5}`, `{"iss":["a"]}`, `{"iss":{}}`, `{"sub":false}`,
	`{"o":[]}`, `{"o":{}}`, `{"o":{"id":null,"ID2":1}}`, `{"o":{"ID":"org_1"}}`, `{"o":{"id":5}}`,
	`{"org_permissions":"org:a"}`, `{"org_permissions":[1]}`, `{"org_permissions":[[]]}`,
	` { "iss" : "a" , "x" : { "y" : [ "}" , "\"]" ] } , "sub" : "b" } `,
	`{"alg":"RS256","kid":"ins_1","typ":"JWT"}`, `{"ALG":"none","KID":"x","Typ":"jwt"}`,
	`{"alg":"RS256","crit":["exp"]}`, `{"alg":"RS256","cat":"cl_B7d4PD111AAA"}`, `{"CAT":"x","cat":null}`, `{"cat":5}`, `{"alg":"RS256","crit":null}`, `{"typ":5}`, `{"kid":["a"]}`,
}

// FuzzClaimsDecoder holds the verifier's decoder to encoding/json: for
// every document strictjson.Check accepts, it reads the same header and
// the same claims as json.Unmarshal, or refuses where json.Unmarshal
// refuses.
func FuzzClaimsDecoder(f *testing.F) {
	for _, s := range claimsSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if strictjson.Check(b) != nil {
			return
		}
		var wantH, gotH jwsHeader
		errW, errG := json.Unmarshal(b, &wantH), decodeHeader(b, &gotH)
		if (errW == nil) != (errG == nil) {
			t.Fatalf("header %q: encoding/json says %v, the decoder %v", b, errW, errG)
		}
		if errW == nil && !reflect.DeepEqual(wantH, gotH) {
			t.Fatalf("header %q: encoding/json reads %+v, the decoder %+v", b, wantH, gotH)
		}
		var wantC, gotC wireClaims
		errW, errG = json.Unmarshal(b, &wantC), decodeClaims(b, &gotC)
		if (errW == nil) != (errG == nil) {
			t.Fatalf("claims %q: encoding/json says %v, the decoder %v", b, errW, errG)
		}
		if errW == nil && !reflect.DeepEqual(wantC, gotC) {
			t.Fatalf("claims %q: encoding/json reads %+v, the decoder %+v", b, wantC, gotC)
		}
	})
}

// TestHeaderCacheKeepsOnlySignedHeaders: a header is remembered only once
// a token carrying it has verified, so forged tokens (an unknown kid, a
// bad signature) leave the cache empty; distinct signed headers fill it
// only up to maxHeaders; and a remembered header never excuses a token
// whose signature fails.
func TestHeaderCacheKeepsOnlySignedHeaders(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testKid, func(c *Config) { c.DisableTokenCache = true })
	now := f.clk.Now()
	claims := `{"azp":"` + testAzp + `","iss":"` + testIssuer + `","sub":"user_1","sid":"sess_1",` +
		`"exp":` + itoa(now.Add(time.Minute).Unix()) + `,"iat":` + itoa(now.Unix()) + `}`
	remembered := func() int {
		if m := f.v.headers.m.Load(); m != nil {
			return len(*m)
		}
		return 0
	}
	ctx := context.Background()
	good := `{"alg":"RS256","kid":"` + testKid + `","typ":"JWT"}`
	for i := range 2 * maxHeaders {
		unknown := `{"alg":"RS256","kid":"ins_forged_` + itoa(int64(i)) + `","typ":"JWT"}`
		if _, err := f.v.Verify(ctx, mintRaw(t, f.keys[0], unknown, claims)); err == nil {
			t.Fatal("a token with an unknown kid verified")
		}
		other := `{"alg":"RS256","kid":"` + testKid + `","typ":"JWT","n":` + itoa(int64(i)) + `}`
		forged := mintRaw(t, f.keys[1], other, claims) // not the key the kid names
		if _, err := f.v.Verify(ctx, forged); ssoerr.ReasonOf(err) != ssoerr.ReasonSignature {
			t.Fatalf("a token signed by another key: %v, want reason %s", err, ssoerr.ReasonSignature)
		}
	}
	if n := remembered(); n != 0 {
		t.Fatalf("%d headers remembered from forged tokens", n)
	}
	if _, err := f.v.Verify(ctx, mintRaw(t, f.keys[0], good, claims)); err != nil {
		t.Fatal(err)
	}
	if n := remembered(); n != 1 {
		t.Fatalf("%d headers remembered after one valid token, want 1", n)
	}
	forged := mintRaw(t, f.keys[1], good, claims) // the remembered header, another key's signature
	if _, err := f.v.Verify(ctx, forged); ssoerr.ReasonOf(err) != ssoerr.ReasonSignature {
		t.Fatalf("a remembered header with a forged signature: %v, want reason %s", err, ssoerr.ReasonSignature)
	}
	for i := range 2 * maxHeaders {
		signed := `{"alg":"RS256","kid":"` + testKid + `","typ":"JWT","n":` + itoa(int64(i)) + `}`
		if _, err := f.v.Verify(ctx, mintRaw(t, f.keys[0], signed, claims)); err != nil {
			t.Fatal(err)
		}
	}
	if n := remembered(); n != maxHeaders {
		t.Fatalf("%d headers remembered, want the bound %d", n, maxHeaders)
	}
}

// TestNameIndexes: the switches that place a member name agree with the
// name lists the case-folded match walks.
func TestNameIndexes(t *testing.T) {
	for _, c := range []struct {
		names []string
		index func(string) int
	}{{headerNames[:], headerIndex}, {claimNames[:], claimIndex}, {orgNames[:], orgIndex}} {
		for i, n := range c.names {
			if got := c.index(n); got != i {
				t.Errorf("%q is at %d in its list, the switch says %d", n, i, got)
			}
		}
		if got := c.index("ISS"); got != -1 {
			t.Errorf("the switch places an upper-case name: %d", got)
		}
	}
}

// TestVerifySignatureLengths: a signature segment that decodes to more
// bytes than the largest key admitted is refused for its signature before
// any decoding, and one of the largest length is decoded and checked (and
// refused, not being the key's).
func TestVerifySignatureLengths(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testKid, nil)
	good := mintRaw(t, f.keys[0], `{"alg":"RS256","kid":"`+testKid+`","typ":"JWT"}`,
		`{"azp":"`+testAzp+`","iss":"`+testIssuer+`","sub":"user_1","sid":"sess_1","exp":`+itoa(f.clk.Now().Add(time.Minute).Unix())+`}`)
	in := good[:strings.LastIndexByte(good, '.')+1]
	for _, n := range []int{maxRSABits/8 + 1, 4 * maxRSABits / 8, maxRSABits / 8} {
		sig := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0x5a}, n))
		_, err := f.v.Verify(context.Background(), in+sig)
		wantReason(t, err, ssoerr.ErrInvalidToken, ssoerr.ReasonSignature)
	}
	if _, err := f.v.Verify(context.Background(), good); err != nil {
		t.Fatalf("the token itself: %v", err)
	}
}
