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
	// timeout and no cookie jar.
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
	c := &Client{base: strings.TrimSuffix(cfg.BaseURL, "/"), bearer: cfg.APIKey + cfg.Token, http: cfg.HTTPClient,
		userAgent: cfg.UserAgent, maxBody: cfg.MaxResponseBytes}
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
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

// AuthService is the caller's own session.
type AuthService struct{ c *Client }

// APIKeys manages an organization's agent keys.
type APIKeys struct{ c *Client }
