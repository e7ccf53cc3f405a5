package state

import (
	"encoding/base64"
	"errors"
	"net/url"
	"testing"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// FuzzDecode: Decode never panics, and whatever it accepts carries the
// nonce it was asked for, a local return path and bounded logout IDs.
// Seeds include validly signed payloads so the fuzzer reaches past the MAC.
func FuzzDecode(f *testing.F) {
	c, _ := newCodec(f)
	good, _ := c.Encode(Payload{ConnectionID: "acme", Nonce: "n1", ReturnTo: "/x", LogoutRequestIDs: []string{"a"}})
	f.Add(good, "n1", []byte(nil))
	f.Add("", "", []byte(`{"c":"acme","n":"n1","e":1893456600}`))
	f.Add("", "n1", []byte(`{"c":"acme","n":"n1","t":"/%2F%2Fevil","e":1893456600}`))
	f.Add("a.b", "n1", []byte(`{"n":"n1","e":9e99,"l":[1]}`))
	f.Fuzz(func(t *testing.T, v, nonce string, signedBody []byte) {
		if signedBody != nil {
			v = encodeRaw(c, signedBody)
		}
		p, err := c.Decode(v, nonce)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrExpired) && !errors.Is(err, ErrWrongBrowser) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		if p.Nonce != nonce || nonce == "" {
			t.Fatalf("accepted nonce %q for %q", p.Nonce, nonce)
		}
		if p.ReturnTo != "" {
			if _, err := LocalPath(p.ReturnTo); err != nil {
				t.Fatalf("accepted return-to %q", p.ReturnTo)
			}
		}
		if len(p.LogoutRequestIDs) > MaxLogoutRequests {
			t.Fatalf("%d logout IDs", len(p.LogoutRequestIDs))
		}
	})
}

// FuzzLocalPath: whatever LocalPath accepts stays on this origin when a
// browser resolves it against the site's URL, written as given or with one
// level of percent-decoding applied (as a careless server might).
func FuzzLocalPath(f *testing.F) {
	for _, p := range []string{"/", "/a?b=c", "//evil", "/\\evil", "/%2F%2Fevil", "/%5cevil", "/a/../b", "https://x"} {
		f.Add(p)
	}
	base, _ := url.Parse("https://app.example/start")
	f.Fuzz(func(t *testing.T, p string) {
		got, err := LocalPath(p)
		if err != nil {
			return
		}
		if got != p {
			t.Fatalf("LocalPath(%q) = %q", p, got)
		}
		forms := []string{p}
		if dec, err := url.PathUnescape(p); err == nil {
			forms = append(forms, dec)
		}
		for _, form := range forms {
			u, err := url.Parse(form)
			if err != nil {
				continue
			}
			if r := base.ResolveReference(u); r.Scheme != "https" || r.Host != "app.example" {
				t.Fatalf("LocalPath accepted %q, which resolves to %s", p, r)
			}
		}
	})
}
