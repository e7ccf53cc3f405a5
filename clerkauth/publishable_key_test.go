package clerkauth

import (
	"encoding/base64"
	"errors"
	"testing"
)

func TestParsePublishableKey(t *testing.T) {
	t.Parallel()
	enc := func(prefix, s string) string { return prefix + base64.StdEncoding.EncodeToString([]byte(s)) }
	encRaw := func(prefix, s string) string { return prefix + base64.RawStdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name, pk         string
		fapi             string
		live             bool
		issuer, insecure string // Issuer(false), Issuer(true)
	}{
		{"clerk docs dev key", "pk_test_aGFwcHktb3R0ZXItMTIuY2xlcmsuYWNjb3VudHMuZGV2JA==", "happy-otter-12.clerk.accounts.dev", false,
			"https://happy-otter-12.clerk.accounts.dev", "https://happy-otter-12.clerk.accounts.dev"},
		{"unpadded", "pk_test_aGFwcHktb3R0ZXItMTIuY2xlcmsuYWNjb3VudHMuZGV2JA", "happy-otter-12.clerk.accounts.dev", false,
			"https://happy-otter-12.clerk.accounts.dev", "https://happy-otter-12.clerk.accounts.dev"},
		{"live", "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k", "clerk.example.com", true, "https://clerk.example.com", "https://clerk.example.com"},
		{"local mock", encRaw("pk_test_", "127.0.0.1:4451/clerk$"), "127.0.0.1:4451/clerk", false,
			"https://127.0.0.1:4451/clerk", "http://127.0.0.1:4451/clerk"},
		{"localhost", enc("pk_test_", "localhost:3000$"), "localhost:3000", false, "https://localhost:3000", "http://localhost:3000"},
		{"ipv6 loopback", enc("pk_test_", "[::1]:4451$"), "[::1]:4451", false, "https://[::1]:4451", "http://[::1]:4451"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParsePublishableKey(tc.pk)
			if err != nil {
				t.Fatal(err)
			}
			if k.FrontendAPI != tc.fapi || k.Live != tc.live || k.Issuer(false) != tc.issuer || k.Issuer(true) != tc.insecure {
				t.Fatalf("got %+v %q %q", k, k.Issuer(false), k.Issuer(true))
			}
		})
	}
	bad := map[string]string{
		"empty":                 "",
		"secret key":            "sk_test_abc",
		"no prefix":             base64.StdEncoding.EncodeToString([]byte("clerk.example.com$")),
		"no dollar":             enc("pk_test_", "clerk.example.com"),
		"only dollar":           enc("pk_test_", "$"),
		"not base64":            "pk_test_!!!!",
		"scheme inside":         enc("pk_test_", "https://clerk.example.com$"),
		"userinfo":              enc("pk_test_", "evil@clerk.example.com$"),
		"query":                 enc("pk_test_", "clerk.example.com?x=1$"),
		"fragment":              enc("pk_test_", "clerk.example.com#x$"),
		"dot-dot path":          enc("pk_test_", "clerk.example.com/a/../b$"),
		"trailing slash":        enc("pk_test_", "clerk.example.com/$"),
		"space":                 enc("pk_test_", "clerk.example.com $"),
		"dollar inside":         enc("pk_test_", "clerk.example.com$x$"),
		"empty port":            enc("pk_test_", "clerk.example.com:$"),
		"non-numeric port":      enc("pk_test_", "clerk.example.com:ab$"),
		"path only":             enc("pk_test_", "/clerk$"),
		"too long":              "pk_test_" + string(make([]byte, 600)),
		"non-canonical padding": "pk_live_Y2xlcmsuZXhhbXBsZS5jb20l",
	}
	for name, pk := range bad {
		t.Run("refuses "+name, func(t *testing.T) {
			if k, err := ParsePublishableKey(pk); !errors.Is(err, ErrPublishableKey) {
				t.Fatalf("accepted %q as %+v (err %v)", pk, k, err)
			}
		})
	}
}
