package clerkauth

import (
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// TestHandshakeSuffixedCookies: when the browser holds the instance's
// suffixed cookies (__session_<suffix>, __client_uat_<suffix>), which
// clerk-js writes beside the plain ones, the handshake reads those, as
// Clerk's SDK does, and asks the Frontend API for them
// (suffixed_cookies=true): the plain names are shared by every Clerk app on
// the site (another port on localhost, __client_uat on the eTLD+1), and
// another instance's plain cookies say nothing of this one's session.
func TestHandshakeSuffixedCookies(t *testing.T) {
	t.Parallel()
	f := newHandshake(t, pkLive, nil)
	sum := sha1.Sum([]byte(pkLive))
	sfx := "_" + base64.RawURLEncoding.EncodeToString(sum[:])[:8]
	earlier := f.now.Add(-time.Minute)
	ours := f.session(t, f.now)
	// Another instance on the site: its token in the plain __session, and
	// its sign-out in the plain __client_uat.
	theirs := mint(t, f.keys[1], hdr("ins_other"), with(v1Claims(f.now), "iss", "https://clerk.other.example"))

	res, _ := run(f, page("/dash", ck(CookieSession, theirs), ck(CookieClientUAT, "0"),
		ck(CookieSession+sfx, ours), ck(CookieClientUAT+sfx, strconv.FormatInt(earlier.Unix(), 10))))
	wantStatus(t, res, SignedIn, "session-token-valid")
	if res.Token != ours {
		t.Fatal("signed in with the plain cookie's token")
	}

	// Our suffixed client signed out: no session, even beside another
	// instance's valid plain pair.
	res, _ = run(f, page("/dash", ck(CookieSession, theirs), uat(earlier),
		ck(CookieClientUAT+sfx, "0")))
	if res.Status == SignedIn {
		t.Fatalf("signed in from another instance's cookies: %+v", res)
	}

	// Only suffixed cookies, uat without a session: the handshake asks for
	// suffixed cookies.
	res, _ = run(f, page("/dash", ck(CookieClientUAT+sfx, strconv.FormatInt(earlier.Unix(), 10))))
	wantStatus(t, res, Redirect, "client-uat-but-no-session-token")
	loc, err := url.Parse(res.Location)
	if err != nil || loc.Query().Get("suffixed_cookies") != "true" {
		t.Fatalf("Location %q, want suffixed_cookies=true", res.Location)
	}

	// Plain cookies only (a browser before suffixes): as before.
	res, _ = run(f, page("/dash", uat(earlier)))
	wantStatus(t, res, Redirect, "client-uat-but-no-session-token")
	if loc, _ := url.Parse(res.Location); loc.Query().Get("suffixed_cookies") != "false" {
		t.Fatalf("Location %q, want suffixed_cookies=false", res.Location)
	}
	res, _ = run(f, page("/dash", ck(CookieSession, ours), uat(earlier)))
	wantStatus(t, res, SignedIn, "session-token-valid")
}
