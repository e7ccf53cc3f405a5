package redirect

import "testing"

func TestAllowed(t *testing.T) {
	reg := []string{"https://app.test/cb", "http://127.0.0.1/callback"}
	for got, want := range map[string]bool{
		"https://app.test/cb":              true,
		"http://127.0.0.1:51234/callback":  true, // RFC 8252: any port on loopback
		"":                                 false,
		"https://app.test/cb/":             false,
		"https://app.test/cb?x=1":          false,
		"https://APP.test/cb":              false,
		"https://app.test.evil/cb":         false,
		"http://app.test/cb":               false,
		"http://127.0.0.1:51234/callbackx": false,
		"http://127.0.0.1:51234/other":     false,
		"http://[::1]:51234/callback":      false, // registered for 127.0.0.1 only
		"http://localhost:51234/callback":  false, // not an IP literal
		"http://10.0.0.1:51234/callback":   false,
		// RFC 6749 3.1.2: no fragment; RFC 8252 7.3 relaxes the port only.
		"http://127.0.0.1:51234/callback#x":      false,
		"http://evil@127.0.0.1:51234/callback":   false,
		"http://127.0.0.1:51234/call%62ack":      false,
		"http://127.0.0.1:51234/callback?":       false,
		"http://127.0.0.1:51234/callback?code=1": false,
		"http://127.0.0.1:51234/x/../callback":   false,
		"http://127.0.0.1:0051234/callback":      false,
	} {
		if Allowed(reg, got) != want {
			t.Errorf("%q: allowed %v, want %v", got, !want, want)
		}
	}
}
