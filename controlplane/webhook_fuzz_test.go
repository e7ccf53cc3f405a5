package controlplane

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	svix "github.com/svix/svix-webhooks/go"
)

// FuzzClerkWebhook signs arbitrary payloads correctly and posts them: a
// well-signed body that is not a sensible Clerk event must be answered 204
// (ignored), 400 (not JSON) or 503 (could not apply), never 500 or a
// panic, and nothing is left half-applied in a way that breaks the next
// event.
func FuzzClerkWebhook(f *testing.F) {
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("fuzzing-secret-fuzzing-secret!!!"))
	a, err := New(Config{AppURL: "https://app.test", StateKey: bytes.Repeat([]byte{7}, 32), EphemeralSessionKey: true,
		WebhookSecret: secret, AutoProvisionOrgs: true})
	if err != nil {
		f.Fatal(err)
	}
	wh, _ := svix.NewWebhook(secret)
	for _, s := range []string{
		`{"type":"user.deleted","data":{"id":"user_1"}}`,
		`{"type":"organization.created","data":{"id":"org_1","name":"Acme","slug":"acme"}}`,
		`{"type":"organizationMembership.deleted","data":{"organization":{"id":"org_1"},"public_user_data":{"user_id":"user_1"}}}`,
		`{"type":"organizationMembership.updated","data":{"organization":{"id":"org_1"},"role":"org:admin","public_user_data":{"user_id":"u"}}}`,
		`{"type":"user.updated","data":null}`, `{"type":7}`, `[]`, `null`, `{}`,
	} {
		f.Add([]byte(s))
	}
	n := 0
	f.Fuzz(func(t *testing.T, body []byte) {
		n++
		id := fmt.Sprint("msg_fuzz_", n)
		now := time.Now()
		sig, err := wh.Sign(id, now, body)
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("POST", "/webhooks/clerk", bytes.NewReader(body))
		req.Header.Set("svix-id", id)
		req.Header.Set("svix-timestamp", fmt.Sprint(now.Unix()))
		req.Header.Set("svix-signature", sig)
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusNoContent, http.StatusBadRequest, http.StatusServiceUnavailable, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("%q: %d %s", body, rec.Code, rec.Body)
		}
	})
}
