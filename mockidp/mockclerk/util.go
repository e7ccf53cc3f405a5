package mockclerk

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"net/http"
	"time"
)

// slowFaultDelay is how long the *_slow faults hold a response.
const slowFaultDelay = 3 * time.Second

// protectedClaims are never overridden by a session token template.
var protectedClaims = map[string]bool{"iss": true, "aud": true, "exp": true, "iat": true, "nbf": true,
	"nonce": true, "sub": true, "at_hash": true, "azp": true, "auth_time": true}

// writeJSON answers JSON as Clerk's APIs do: Content-Type exactly
// application/json, which @clerk/backend requires before it parses a body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// sleepCtx waits d or until the request is cancelled (false).
func sleepCtx(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var errorPage = template.Must(template.New("").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.Title}}</title></head><body>
<h1>{{.Title}}</h1>{{if .Code}}<p><code>{{.Code}}</code></p>{{end}}<p>{{.Message}}</p></body></html>`))

func mustTemplate(src string) *template.Template { return template.Must(template.New("").Parse(src)) }
