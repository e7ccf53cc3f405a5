package controlplane

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	svix "github.com/svix/svix-webhooks/go"
)

// FuzzWebhookHeaders posts a fixed event with arbitrary svix-id,
// svix-timestamp and svix-signature headers. Nothing panics; unless the
// headers carry a valid signature of this body (the seeds that do are
// known), the answer is a 4xx with a stable code: 400 invalid_header,
// 401 invalid_signature or stale_webhook. A refusal never applies the
// event.
func FuzzWebhookHeaders(f *testing.F) {
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("fuzzing-secret-fuzzing-secret!!!"))
	now := time.Unix(1_800_000_000, 0)
	a, err := New(Config{AppURL: "https://app.test", StateKey: bytes.Repeat([]byte{7}, 32), EphemeralSessionKey: true,
		WebhookSecret: secret, AutoProvisionOrgs: true, Now: func() time.Time { return now }})
	if err != nil {
		f.Fatal(err)
	}
	body := []byte(`{"type":"organization.created","data":{"id":"org_fuzz","name":"Fuzz","slug":"fuzz"}}`)
	wh, _ := svix.NewWebhook(secret)
	good, _ := wh.Sign("msg_1", now, body)
	ts := fmt.Sprint(now.Unix())
	f.Add("msg_1", ts, good)
	f.Add("msg_1", ts, "v1,"+strings.Repeat("A", 44))
	f.Add("msg_1", fmt.Sprint(now.Unix()-3600), good)
	f.Add("msg_1", "1e9", good)
	f.Add("msg_1", "-1", "v1 , "+good)
	f.Add(strings.Repeat("m", 200), ts, good)
	f.Add("", ts, good)
	f.Add("msg_1", ts, "v1,"+good[3:]+" v1,"+good[3:])
	f.Add("msg_1", ts, "v2,"+good[3:])
	f.Fuzz(func(t *testing.T, id, stamp, sig string) {
		req := httptest.NewRequest("POST", "/webhooks/clerk", bytes.NewReader(body))
		for k, v := range map[string]string{"svix-id": id, "svix-timestamp": stamp, "svix-signature": sig} {
			req.Header[http.CanonicalHeaderKey(k)] = []string{v}
		}
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		if rec.Code < 300 {
			if want, _ := wh.Sign(id, now, body); id == "" || stamp != ts || !strings.Contains(sig, want[3:]) {
				t.Fatalf("svix-id %q svix-timestamp %q svix-signature %q: %d %s", id, stamp, sig, rec.Code, rec.Body)
			}
			return
		}
		switch rec.Code {
		case http.StatusBadRequest, http.StatusUnauthorized:
		default:
			t.Fatalf("svix-id %q svix-timestamp %q svix-signature %q: %d %s", id, stamp, sig, rec.Code, rec.Body)
		}
		if !bytes.Contains(rec.Body.Bytes(), []byte(`"error":"`)) {
			t.Fatalf("%d without a stable code: %s", rec.Code, rec.Body)
		}
	})
}
