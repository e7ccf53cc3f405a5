package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/ssokit/ssokit/api"
)

// The sentinels an *Error matches with errors.Is, by HTTP status. Match
// the stable code (Error.Code) for finer cases.
var (
	// ErrUnauthorized: 401, the credential is missing, invalid, expired or
	// revoked.
	ErrUnauthorized = errors.New("client: unauthorized")
	// ErrForbidden: 403, the caller may not do this (role, plan, SSO rules).
	ErrForbidden = errors.New("client: forbidden")
	// ErrNotFound: 404, no such organization, person or key.
	ErrNotFound = errors.New("client: not found")
	// ErrConflict: 409, the organization or the Clerk mapping exists.
	ErrConflict = errors.New("client: conflict")
	// ErrInvalid: 400 or 422, the request was refused as malformed or
	// invalid; or the client refused to send it (an empty, . or .. ID).
	ErrInvalid = errors.New("client: invalid request")
	// ErrRateLimited: 429, too many attempts.
	ErrRateLimited = errors.New("client: rate limited")
	// ErrUnavailable: 502, 503 or 504, the control plane or one of its
	// dependencies is unavailable; retrying later may work.
	ErrUnavailable = errors.New("client: unavailable")
)

// Error is a refusal by the API: the HTTP status, the stable code and the
// message. Check it with errors.As, or its class with errors.Is against the
// sentinels.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Code is the API's stable code ("plan_not_entitled", "not_found",
	// ...). When the body was not the API's JSON error (a proxy's page,
	// say), it is "http_<status>".
	Code string
	// Message is the API's human message, or the start of a body that was
	// not JSON. Never parse it.
	Message string
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("ssokit API: %d %s: %s", e.Status, e.Code, e.Message)
}

// Is matches the sentinel of e's status class.
func (e *Error) Is(target error) bool {
	switch e.Status {
	case http.StatusUnauthorized:
		return target == ErrUnauthorized
	case http.StatusForbidden:
		return target == ErrForbidden
	case http.StatusNotFound:
		return target == ErrNotFound
	case http.StatusConflict:
		return target == ErrConflict
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return target == ErrInvalid
	case http.StatusTooManyRequests:
		return target == ErrRateLimited
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return target == ErrUnavailable
	}
	return false
}

// errorOf builds the *Error of a refusal from its (bounded) body.
func errorOf(status int, body []byte) *Error {
	var e api.Error
	if json.Unmarshal(body, &e) == nil && e.Code != "" && len(e.Code) <= maxCodeBytes {
		return &Error{Status: status, Code: e.Code, Message: truncate(e.Message)}
	}
	return &Error{Status: status, Code: fmt.Sprintf("http_%d", status), Message: truncate(strings.TrimSpace(string(body)))}
}

// maxCodeBytes bounds an error code read from a refusal: a longer one is
// not one of the API's codes, and the answer is then read as plain text.
const maxCodeBytes = 64

// truncate bounds a message from the server to maxMessageBytes, without
// cutting a character in two, so a hostile or broken server cannot hand
// the caller's logs megabytes of text.
func truncate(msg string) string {
	msg = strings.ToValidUTF8(msg, "\uFFFD")
	if len(msg) <= maxMessageBytes {
		return msg
	}
	msg = msg[:maxMessageBytes]
	for !utf8.ValidString(msg) {
		msg = msg[:len(msg)-1]
	}
	return msg + "…"
}
