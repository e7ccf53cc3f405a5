package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultMaxResponseBytes bounds a response body when
// Config.MaxResponseBytes is zero.
const DefaultMaxResponseBytes = 4 << 20

// maxMessageBytes bounds the message of an *Error built from a body that
// is not the API's JSON error.
const maxMessageBytes = 512

// Config configures a Client.
type Config struct {
	// BaseURL is the control plane's absolute http or https URL, e.g.
	// "https://app.example.com" (a path prefix is kept). Required.
	BaseURL string
	// APIKey is an organization's API key (ssk_...), sent as
	// "Authorization: Bearer <key>". Empty means none.
	APIKey string
	// Token is any other Bearer credential: the bootstrap administrator
	// key, or a Clerk session token. At most one of APIKey and Token may
	// be set; with neither, requests carry only what HTTPClient adds (a
	// cookie jar keeps the session of AuthService.Login).
	Token string
	// HTTPClient sends the requests. Nil means a client with a 30 s
	// timeout and no cookie jar. Unless it has a CheckRedirect of its
	// own, a redirect off BaseURL's origin (scheme, host and port) is
	// refused, so the credential and a login's password stay there.
	HTTPClient *http.Client
	// UserAgent is sent as User-Agent. Empty means "ssokit-client".
	UserAgent string
	// MaxResponseBytes bounds every response body read. Zero means
	// DefaultMaxResponseBytes; a larger successful answer is an error, a
	// larger refusal keeps its status and a truncated message.
	MaxResponseBytes int64
}

// Client calls the API. It is safe for concurrent use.
type Client struct {
	base      string
	bearer    string
	http      *http.Client
	userAgent string
	maxBody   int64

	// Organizations manages organizations, their SSO and their people.
	Organizations *Organizations
	// Auth is the caller's own session.
	Auth *AuthService
	// APIKeys manages an organization's agent keys.
	APIKeys *APIKeys
}

// New validates cfg and returns a client.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("client: Config.BaseURL must be an absolute http(s) URL")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("client: Config.BaseURL must not carry a query or fragment")
	}
	if cfg.APIKey != "" && cfg.Token != "" {
		return nil, errors.New("client: set Config.APIKey or Config.Token, not both")
	}
	if strings.ContainsAny(cfg.APIKey+cfg.Token, " \t\r\n") {
		return nil, errors.New("client: the credential holds whitespace")
	}
	if cfg.MaxResponseBytes < 0 {
		return nil, errors.New("client: Config.MaxResponseBytes is negative")
	}
	c := &Client{base: strings.TrimSuffix(cfg.BaseURL, "/"), userAgent: cfg.UserAgent, maxBody: cfg.MaxResponseBytes,
		bearer: cfg.APIKey + cfg.Token}
	hc := http.Client{Timeout: 30 * time.Second}
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	}
	if hc.CheckRedirect == nil {
		// Go's own policy keeps the Authorization header on a redirect to
		// the same host name on another port or scheme, and re-sends a
		// 307/308's body (a password) anywhere: the client stays on the
		// API's origin.
		hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if req.URL.Scheme != u.Scheme || !strings.EqualFold(req.URL.Hostname(), u.Hostname()) || port(req.URL) != port(u) {
				return fmt.Errorf("client: refusing a redirect off %s://%s to %s", u.Scheme, u.Host, req.URL.Redacted())
			}
			if len(via) >= 10 {
				return errors.New("client: stopped after 10 redirects")
			}
			return nil
		}
	}
	c.http = &hc
	if c.userAgent == "" {
		c.userAgent = "ssokit-client"
	}
	if c.maxBody == 0 {
		c.maxBody = DefaultMaxResponseBytes
	}
	c.Organizations, c.Auth, c.APIKeys = &Organizations{c}, &AuthService{c}, &APIKeys{c}
	return c, nil
}

// do sends one request: in (when not nil) as the JSON body, the answer
// decoded into out (when not nil), a refusal as an *Error.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("client: encoding the request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	if err := checkPath(path); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return fmt.Errorf("client: reading the response: %w", err)
	}
	tooLarge := int64(len(b)) > c.maxBody
	if tooLarge {
		b = b[:c.maxBody]
	}
	if resp.StatusCode/100 != 2 {
		return errorOf(resp.StatusCode, b)
	}
	if tooLarge {
		return fmt.Errorf("client: %s %s: the response is larger than %d bytes", method, path, c.maxBody)
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("client: %s %s: decoding the response: %w", method, path, err)
		}
	}
	return nil
}

// Organizations manages organizations, their SSO settings and people.
type Organizations struct{ c *Client }

// orgPath is /v1/organizations/{org} followed by more path segments, each
// escaped.
func orgPath(org string, more ...string) string {
	p := "/v1/organizations/" + url.PathEscape(org)
	for _, s := range more {
		p += "/" + url.PathEscape(s)
	}
	return p
}

// port is u's port, or its scheme's default when it has none.
func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// checkPath refuses a path with an empty, "." or ".." segment: an ID of
// "..", which url.PathEscape leaves as it is, would address another route
// (a proxy that cleans paths would send it elsewhere).
func checkPath(path string) error {
	p, _, _ := strings.Cut(path, "?")
	for _, seg := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("%w: an empty, . or .. path segment in %q", ErrInvalid, path)
		}
	}
	return nil
}

// AuthService is the caller's own session.
type AuthService struct{ c *Client }

// APIKeys manages an organization's agent keys.
type APIKeys struct{ c *Client }
