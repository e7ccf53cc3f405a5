package clerkauth

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/ssoerr"
)

// FuzzHandshakePayload signs arbitrary payloads with the instance key, so
// the checks behind the signature run on hostile JSON: nothing panics, a
// refusal is a classified *ssoerr.Error, and accepted directives are
// bounded in number and length.
func FuzzHandshakePayload(f *testing.F) {
	fx := newFixture(f, testKid, nil)
	h, err := NewHandshake(HandshakeConfig{Verifier: fx.v, PublishableKey: "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k", AppURL: "https://app.example.com", Now: fx.clk.Now})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{`{"handshake":["__session=x; Path=/","__client_uat=0; Path=/"]}`, `{"handshake":[]}`,
		`{"handshake":null}`, `{"handshake":["a"],"HANDSHAKE":["b"]}`, `{"handshake":[1,2]}`, `{"handshake":"__session=x"}`,
		`{"handshake":["` + strings.Repeat("x", 9000) + `"]}`, `{"handshake":[` + strings.Repeat(`"a=b",`, 100) + `"a=b"]}`,
		`{"handshake":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`, `[]`, "\xff"} {
		f.Add(true, s)
	}
	f.Add(false, "eyJhbGciOiJub25lIn0.e30.")
	f.Add(false, "..")
	f.Add(false, strings.Repeat("A", maxHandshakeBytes+1))
	f.Fuzz(func(t *testing.T, sign bool, s string) {
		tok := s
		if sign {
			tok = mintRaw(t, fx.keys[0], `{"alg":"RS256","kid":"`+testKid+`","typ":"JWT"}`, s)
		}
		ds, err := h.verifyPayload(context.Background(), tok)
		if err != nil {
			var e *ssoerr.Error
			if !errors.As(err, &e) || e.Reason == "" {
				t.Fatalf("unclassified refusal %v", err)
			}
			return
		}
		if !sign {
			t.Fatalf("accepted an unsigned payload %q", s)
		}
		if len(ds) > maxDirectives {
			t.Fatalf("accepted %d directives", len(ds))
		}
		for _, d := range ds {
			if len(d) > maxDirectiveBytes {
				t.Fatalf("accepted a directive of %d bytes", len(d))
			}
		}
	})
}

// FuzzParsePublishableKey: an accepted key names a Frontend API that is a
// bare host[:port][/path], and encoding it again gives a key that parses
// to the same value (round trip).
func FuzzParsePublishableKey(f *testing.F) {
	for _, s := range []string{"pk_live_Y2xlcmsuZXhhbXBsZS5jb20k", "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k",
		"pk_test_" + base64.StdEncoding.EncodeToString([]byte("evil.test@clerk.example.com$")),
		"pk_test_" + base64.StdEncoding.EncodeToString([]byte("clerk.example.com:$")),
		"pk_test_" + base64.StdEncoding.EncodeToString([]byte("clerk.example.com/../x$")),
		"pk_test_" + base64.StdEncoding.EncodeToString([]byte("[::1]:3000$")),
		"pk_test_" + base64.StdEncoding.EncodeToString([]byte("$")), "pk_live_", "pk_live_====", "sk_live_x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParsePublishableKey(s)
		if err != nil {
			if !errors.Is(err, ErrPublishableKey) {
				t.Fatalf("unclassified refusal %v", err)
			}
			return
		}
		if k.FrontendAPI == "" || strings.ContainsAny(k.FrontendAPI, "@?#$ \\") {
			t.Fatalf("%q: Frontend API %q", s, k.FrontendAPI)
		}
		prefix := "pk_test_"
		if k.Live {
			prefix = "pk_live_"
		}
		again, err := ParsePublishableKey(prefix + base64.StdEncoding.EncodeToString([]byte(k.FrontendAPI+"$")))
		if err != nil || again != k {
			t.Fatalf("%q: round trip gave %+v, %v; want %+v", s, again, err, k)
		}
	})
}
