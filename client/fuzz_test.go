package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzResponse answers a call with an arbitrary status and body, as a
// hostile or broken server might: nothing panics, a refusal is an *Error
// with that status whose code and message are bounded (the message to
// maxMessageBytes and an ellipsis), and a success decodes or fails with
// an error, never a half-read value passed off as an answer.
func FuzzResponse(f *testing.F) {
	for _, s := range []struct {
		status int
		body   string
	}{{200, `{"id":"acme","name":"Acme","plan":"enterprise"}`}, {200, `{"id":1}`}, {200, ``}, {200, `null`},
		{404, `{"error":"not_found","message":"no such organization"}`}, {400, `{"error":"","message":"x"}`},
		{500, `<html>oops</html>`}, {429, strings.Repeat("é", 600)}, {403, `{"error":"` + strings.Repeat("x", 100) + `"}`},
		{401, `{"error":"unauthorized","message":"` + strings.Repeat("m", 2000) + `"}`}, {302, ""}, {599, "\xff\xfe"}} {
		f.Add(s.status, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 200 || status > 599 {
			return
		}
		c, err := New(Config{BaseURL: "https://api.test", APIKey: "k", MaxResponseBytes: 4096,
			HTTPClient: &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body))}, nil
			}), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}})
		if err != nil {
			t.Fatal(err)
		}
		org, err := c.Organizations.Create(context.Background(), "acme", "Acme", "enterprise")
		if status/100 == 2 {
			if err == nil && len(body) > 4096 {
				t.Fatalf("accepted a %d-byte answer over the 4096-byte limit as %+v", len(body), org)
			}
			return
		}
		var e *Error
		if !errors.As(err, &e) || e.Status != status || e.Code == "" {
			t.Fatalf("%d %q: refusal %v", status, body, err)
		}
		if len(e.Code) > maxCodeBytes || len(e.Message) > maxMessageBytes+len("…") {
			t.Fatalf("%d: code of %d bytes, message of %d bytes", status, len(e.Code), len(e.Message))
		}
		if !utf8.ValidString(e.Message) {
			t.Fatalf("message %q is not UTF-8", e.Message)
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
