package state

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

var testKey = bytes.Repeat([]byte("k"), 32)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newCodec(t testing.TB) (*Codec, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	c, err := New(Config{Key: testKey, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	return c, clk
}

func TestNewRequiresKey(t *testing.T) {
	t.Parallel()
	for _, key := range [][]byte{nil, {}, bytes.Repeat([]byte("k"), 31)} {
		if _, err := New(Config{Key: key}); err == nil {
			t.Errorf("key of %d bytes accepted", len(key))
		}
	}
	if _, err := New(Config{Key: testKey, TTL: -time.Second}); err == nil {
		t.Error("negative TTL accepted")
	}
}

// TestKeyRotation: after a switch of keys, values signed with the old key
// still decode where it is a previous key, new values are signed with the
// new one only, and a codec that dropped the old key refuses them.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	oldKey, newKey := bytes.Repeat([]byte("o"), 32), bytes.Repeat([]byte("n"), 32)
	before, err := New(Config{Key: oldKey})
	if err != nil {
		t.Fatal(err)
	}
	during, err := New(Config{Key: newKey, PreviousKeys: [][]byte{oldKey}})
	if err != nil {
		t.Fatal(err)
	}
	after, err := New(Config{Key: newKey})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := before.Encode(Payload{Nonce: "n1"})
	if _, err := during.Decode(v, "n1"); err != nil {
		t.Errorf("an old value during the rotation: %v", err)
	}
	if _, err := after.Decode(v, "n1"); !errors.Is(err, ErrInvalid) {
		t.Errorf("an old value after the old key was dropped: %v", err)
	}
	w, _ := during.Encode(Payload{Nonce: "n2"})
	if _, err := after.Decode(w, "n2"); err != nil {
		t.Errorf("a value signed during the rotation, after: %v", err)
	}
	if _, err := before.Decode(w, "n2"); !errors.Is(err, ErrInvalid) {
		t.Errorf("a value signed during the rotation verifies under the old key: %v", err)
	}
	if _, err := New(Config{Key: newKey, PreviousKeys: [][]byte{oldKey, make([]byte, 31)}}); err == nil {
		t.Error("a previous key of 31 bytes accepted")
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	c, _ := newCodec(t)
	nonce, err := c.NewNonce()
	if err != nil || len(nonce) != 43 {
		t.Fatalf("nonce %q, %v", nonce, err)
	}
	in := Payload{ConnectionID: "acme", ReturnTo: "/dash?tab=1", Nonce: nonce, RequestID: "id-1",
		OIDCNonce: "on", PKCEVerifier: "pv", LogoutRequestIDs: []string{"lr-1", "lr-2"}}
	v, err := c.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Decode(v, nonce)
	if err != nil {
		t.Fatal(err)
	}
	if out.ConnectionID != in.ConnectionID || out.ReturnTo != in.ReturnTo || out.RequestID != in.RequestID ||
		out.OIDCNonce != in.OIDCNonce || out.PKCEVerifier != in.PKCEVerifier || strings.Join(out.LogoutRequestIDs, ",") != "lr-1,lr-2" ||
		!out.Expires.Equal(time.Date(2030, 1, 1, 0, 10, 0, 0, time.UTC)) {
		t.Fatalf("decoded %+v", out)
	}
}

func TestDecodeRefuses(t *testing.T) {
	t.Parallel()
	c, clk := newCodec(t)
	good, err := c.Encode(Payload{ConnectionID: "acme", Nonce: "n1", ReturnTo: "/x"})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := New(Config{Key: bytes.Repeat([]byte("o"), 32), Now: clk.now})
	forged, _ := other.Encode(Payload{ConnectionID: "acme", Nonce: "n1"})
	body, mac, _ := strings.Cut(good, ".")
	flipped := []byte(body)
	flipped[3] ^= 1
	early, _ := c.Encode(Payload{ConnectionID: "acme", Nonce: "n1", Expires: clk.t.Add(time.Minute)})
	for _, tc := range []struct {
		name, v, nonce string
		advance        time.Duration
		want           error
	}{
		{"empty", "", "n1", 0, ErrInvalid},
		{"no dot", body, "n1", 0, ErrInvalid},
		{"not base64", "!!." + mac, "n1", 0, ErrInvalid},
		{"payload altered", string(flipped) + "." + mac, "n1", 0, ErrInvalid},
		{"mac truncated", body + "." + mac[:10], "n1", 0, ErrInvalid},
		{"other key", forged, "n1", 0, ErrInvalid},
		{"oversized", strings.Repeat("a", MaxSize+1), "n1", 0, ErrInvalid},
		{"other browser", good, "n2", 0, ErrWrongBrowser},
		{"no nonce held", good, "", 0, ErrWrongBrowser},
		{"expired", good, "n1", DefaultTTL, ErrExpired},
		{"expired at the payload's own time", early, "n1", time.Minute, ErrExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, clk := newCodec(t)
			clk.t = clk.t.Add(tc.advance)
			if _, err := c.Decode(tc.v, tc.nonce); !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
	// Just before expiry it still decodes.
	c2, clk2 := newCodec(t)
	clk2.t = clk2.t.Add(DefaultTTL - time.Second)
	if _, err := c2.Decode(good, "n1"); err != nil {
		t.Fatalf("one second before expiry: %v", err)
	}
}

func TestEncodeRefuses(t *testing.T) {
	t.Parallel()
	c, _ := newCodec(t)
	for name, p := range map[string]Payload{
		"no nonce":        {ConnectionID: "acme"},
		"foreign return":  {ConnectionID: "acme", Nonce: "n", ReturnTo: "//evil.example"},
		"too many logout": {ConnectionID: "acme", Nonce: "n", LogoutRequestIDs: make([]string, MaxLogoutRequests+1)},
		"too large":       {ConnectionID: strings.Repeat("c", MaxSize), Nonce: "n"},
	} {
		if _, err := c.Encode(p); err == nil {
			t.Errorf("%s: encoded", name)
		}
	}
}

// TestLocalPath: hostile return-to paths are refused, written plainly or
// percent-encoded; ordinary local paths pass unchanged.
func TestLocalPath(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p  string
		ok bool
	}{
		{"/", true},
		{"/dashboard", true},
		{"/a/b/?x=1&y=%2F%2F#frag", true},
		{"/search?q=a//b", true},
		{"/caf%C3%A9", true},
		{"/a/", true},
		{"", false},
		{"dashboard", false},
		{"//evil.example", false},
		{"///evil.example", false},
		{"/\\evil.example", false},
		{"\\\\evil.example", false},
		{"/a\\b", false},
		{"https://evil.example/", false},
		{"javascript:alert(1)", false},
		{"/javascript:alert(1)", true}, // a path segment, not a scheme
		{"data:text/html,x", false},
		{"/\t/evil.example", false},
		{"/\r\nSet-Cookie: x=1", false},
		{"/a\x00b", false},
		{"/a\x7fb", false},
		{"/ evil", false},
		{"/café", false},
		{"/%2F%2Fevil.example", false},
		{"/%2f/evil.example", false},
		{"/%5Cevil.example", false},
		{"/%5cevil.example", false},
		{"/%252F%252Fevil.example", false},
		{"/%25252F", false},
		{"/%0d%0aLocation:%20http://evil", false},
		{"/%09/evil.example", false},
		{"/a/../../evil", false},
		{"/./evil", false},
		{"/%2e%2e/evil", false},
		{"/a%zz", false},
		{"/" + strings.Repeat("a", MaxReturnTo), false},
		{"/@evil.example", true},
	} {
		got, err := LocalPath(tc.p)
		if tc.ok && (err != nil || got != tc.p) {
			t.Errorf("LocalPath(%q) = %q, %v; want it unchanged", tc.p, got, err)
		}
		if !tc.ok && (err == nil || !errors.Is(err, ErrReturnTo)) {
			t.Errorf("LocalPath(%q) = %q, %v; want ErrReturnTo", tc.p, got, err)
		}
	}
}

// TestHostileReturnToInsideState: a payload signed with a foreign return
// path (as an older or compromised signer might) is refused on Decode too.
func TestHostileReturnToInsideState(t *testing.T) {
	t.Parallel()
	c, _ := newCodec(t)
	body := []byte(`{"c":"acme","t":"//evil.example","n":"n1","e":1893456600}`)
	v := encodeRaw(c, body)
	if _, err := c.Decode(v, "n1"); !errors.Is(err, ErrInvalid) || !errors.Is(err, ErrReturnTo) {
		t.Fatalf("err %v", err)
	}
}

func encodeRaw(c *Codec, body []byte) string {
	return b64(body) + "." + b64(c.mac(body))
}
