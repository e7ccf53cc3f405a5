package controlplane

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/internal/httpsec"
	"github.com/ssokit/ssokit/internal/strictjson"
	"github.com/ssokit/ssokit/middleware"
	"github.com/ssokit/ssokit/ssoerr"
)

// The stable error codes this package answers with (besides the
// middleware's, which refuse credentials). They are part of the API: the
// README's error table lists each, and clients match on them.
const (
	codeTooLarge           = "too_large"            // 413: the request body is over the limit
	codeInvalidJSON        = "invalid_json"         // 400: the body is not the JSON the route takes
	codeNotFound           = "not_found"            // 404: no such organization, person, key or route
	codeUpstream           = "upstream_unavailable" // 503: the store (or another dependency) failed
	codeConnectionError    = "connection_error"     // 502: a direct IdP connection cannot be built or started
	codeSSOUnavailable     = "sso_unavailable"      // 400: no SSO path for the request
	codeInvalidState       = "invalid_state"        // 400: the SSO callback's state is bad or old
	codeSessionError       = "session_error"        // 500: the app session could not be issued
	codeSSOFailed          = "sso_failed"           // 401: a direct connection refused the login
	codeInvalidSettings    = "invalid_settings"     // 422: an SSO or organization setting is invalid
	codeInvalidConnection  = "invalid_connection"   // 422: the direct connection does not validate
	codeSecretsKeyRequired = "secrets_key_required" // 422: a client secret would be kept in the clear
	codeClerkOrgTaken      = "clerk_org_taken"      // 409: the Clerk org is mapped to another org
	codeClerkOrgLink       = "clerk_org_link"       // 403: only the platform admin links an org to a Clerk org
	codeExists             = "exists"               // 409: the organization exists
	codeInvalidRole        = "invalid_role"         // 422: the role is not defined by the policy
	codeNoConnection       = "no_connection"        // 422: sso/test on an org without a direct connection
	codeSSONotConfigured   = "sso_not_configured"   // 422: require_sso on an org with no SSO configured
	codeInvalidSignature   = "invalid_signature"    // 401: a webhook's svix signature does not verify
	codeCrossOrigin        = "cross_origin"         // 403: a browser request from another origin
	codeMethodNotAllowed   = "method_not_allowed"   // 405: the route exists, the method does not
	codeInvalidHeader      = "invalid_header"       // 400: a request header is malformed or over its length limit
	codeStaleWebhook       = "stale_webhook"        // 401: a well-signed webhook's timestamp is outside the tolerance
	codeInProgress         = "in_progress"          // 409: another delivery of the same webhook is being applied
	// codePlanNotEntitled is admission's reason, answered here when SSO
	// settings are saved on a plan without SSO.
	codePlanNotEntitled = string(ssoerr.ReasonPlanNotEntitled)
)

// apiError is a refusal decided by a pure check (settings validation,
// entitlement): the status and code to answer with and a message for the
// caller. Handlers write it with failWith.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, api.Error{Code: code, Message: msg})
}

// failWith answers err: an *apiError as itself, anything else as a 503.
func failWith(w http.ResponseWriter, err error) {
	var e *apiError
	if errors.As(err, &e) {
		fail(w, e.Status, e.Code, e.Message)
		return
	}
	fail(w, http.StatusServiceUnavailable, codeUpstream, "could not save")
}

// browserFail answers a failure on a browser-facing route (/auth/sso/...):
// through Config.ErrorPage when set, as an HTML page when the browser asks
// for HTML, else as the JSON error.
func (a *API) browserFail(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	if a.cfg.ErrorPage != nil {
		w.Header().Set("Cache-Control", "no-store")
		a.cfg.ErrorPage(w, r, status, code, msg)
		return
	}
	if !strings.Contains(r.Header.Get("Accept"), "text/html") {
		fail(w, status, code, msg)
		return
	}
	httpsec.Page(w.Header(), httpsec.CSP{InlineStyles: true}) // a link back, no form, no script
	w.WriteHeader(status)
	_ = errorPage.Execute(w, map[string]any{"Status": status, "Code": code, "Message": msg})
}

var errorPage = template.Must(template.New("error").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Sign-in refused</title></head>
<body style="font:15px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem">
<h1>Sign-in refused</h1><p id="message" role="alert">{{.Message}}</p><p>Code <code id="code">{{.Code}}</code> (HTTP {{.Status}}).</p>
<p><a href="/">Back</a></p></body></html>`))

// browserRefuse is refuse for browser-facing routes.
func (a *API) browserRefuse(w http.ResponseWriter, r *http.Request, err error) {
	resp := middleware.Classify(err)
	a.log.Info("controlplane: refused", "path", logValue(r.URL.Path), "code", resp.Code, "reason", ssoerr.ReasonOf(err), "err", err)
	if resp.Challenge != "" {
		w.Header().Set("WWW-Authenticate", resp.Challenge)
	}
	if resp.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	a.browserFail(w, r, resp.Status, resp.Code, resp.Message)
}

// refuse answers an authentication or policy refusal with its code.
func (a *API) refuse(w http.ResponseWriter, r *http.Request, err error) {
	a.auth.Refuse(w, r, err)
}

// decode reads the JSON body into v: one JSON value of valid UTF-8,
// unknown fields and trailing data refused. On failure it has answered
// 413 too_large or 400 invalid_json with jsonProblem's message, never
// encoding/json's (which names Go types and struct fields), and returns
// false.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			fail(w, http.StatusRequestEntityTooLarge, codeTooLarge, "the body is too large")
			return false
		}
		fail(w, http.StatusBadRequest, codeInvalidJSON, "the body could not be read")
		return false
	}
	if !utf8.Valid(body) {
		fail(w, http.StatusBadRequest, codeInvalidJSON, "the body is not UTF-8")
		return false
	}
	if msg := decodeJSON(body, v); msg != "" {
		fail(w, http.StatusBadRequest, codeInvalidJSON, msg)
		return false
	}
	return true
}

// decodeJSON decodes exactly one JSON value from body into v, refusing
// unknown fields and anything after the value, then refuses a body that
// is not one object in which no object names a member twice, exactly or
// in other letter cases (strictjson), or names a field in another letter
// case than the API's (inexactName): encoding/json keeps the last of two
// and folds case, where a proxy, an audit log or a client may read the
// first, or not see the member at all. It returns "" or the message of the
// refusal.
func decodeJSON(body []byte, v any) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonProblem(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return "trailing data after the JSON body"
	}
	if err := strictjson.CheckObject(body); err != nil {
		switch msg := err.Error(); {
		case strings.Contains(msg, "appears twice"), strings.Contains(msg, "differ only in case"):
			return "an object names a member twice (or twice in different letter cases)"
		case strings.Contains(msg, "not a JSON object"):
			return "the body must be a JSON object"
		}
		return "the body is not the JSON this route takes"
	}
	if name := inexactName(body, v); name != "" {
		if jsonField.MatchString(name) {
			return "unknown field " + name + " (field names are lower case, as the API spells them)"
		}
		return "an unknown field (field names are spelled exactly as the API spells them)"
	}
	return ""
}

// jsonField is a JSON field path safe to quote in a message: short, and
// made of the characters the API's own field names use.
var jsonField = regexp.MustCompile(`^[A-Za-z0-9_.]{1,64}$`)

// jsonProblem says what is wrong with a body encoding/json refused, in
// words of the API: at most the JSON field path (when it is one the API
// could name), never a Go type, struct or package name, nor the
// offending value.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return "the body is empty"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the body is truncated JSON"
	case errors.As(err, &syn):
		return fmt.Sprintf("the body is not valid JSON (at byte %d)", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return "the body must be a JSON object"
		}
		if jsonField.MatchString(typ.Field) {
			return fmt.Sprintf("%s has the wrong type", typ.Field)
		}
		return "a field has the wrong type"
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if name, err := strconv.Unquote(name); err == nil && jsonField.MatchString(name) {
			return fmt.Sprintf("unknown field %q", name)
		}
		return "the body has an unknown field"
	}
	return "the body is not the JSON this route takes"
}

// maxLogValue bounds a request-derived value written to a log.
const maxLogValue = 200

// logValue is a request-derived string bounded for a log line: at most
// maxLogValue bytes of valid UTF-8, marked when cut.
func logValue(s string) string { return bounded(s, maxLogValue) }

// bounded is s as valid UTF-8 of at most n bytes (cut on a rune boundary),
// then "…(cut)" when it was cut.
func bounded(s string, n int) string {
	if len(s) <= n && utf8.ValidString(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\ufffd")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(cut)"
}
