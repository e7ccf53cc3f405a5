package clerkauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	clerkuser "github.com/clerk/clerk-sdk-go/v2/user"
	"github.com/ssokit/ssokit/internal/ttlcache"
	"github.com/ssokit/ssokit/ssoerr"
)

// Defaults for the zero values of UsersConfig.
const (
	DefaultUsersCacheSize = 10_000
	DefaultUsersCacheTTL  = 10 * time.Minute
)

// UsersConfig configures a Users lookup.
type UsersConfig struct {
	// SecretKey (sk_...) authenticates Backend API calls. Required.
	SecretKey string
	// APIURL is the Backend API base including /v1. Zero means
	// DefaultClerkAPIURL.
	APIURL string
	// InsecureHTTPLoopback lets a loopback APIURL use plain http (a local
	// mock Clerk).
	InsecureHTTPLoopback bool
	// HTTPClient makes the calls. Nil means a client with a 10 s timeout.
	HTTPClient *http.Client
	// CacheSize bounds the cache of answers. Zero means
	// DefaultUsersCacheSize.
	CacheSize int
	// CacheTTL is how long an answer is reused. Zero means
	// DefaultUsersCacheTTL.
	CacheTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Users looks up Clerk users through the Backend API (GET /v1/users/{id}),
// for session tokens that carry no email. Answers are cached.
type Users struct {
	client *clerkuser.Client
	cache  *ttlcache.Cache[string]
}

// NewUsers validates cfg and returns the lookup. It calls nothing.
func NewUsers(cfg UsersConfig) (*Users, error) {
	if cfg.SecretKey == "" {
		return nil, errors.New("clerkauth: UsersConfig needs a SecretKey")
	}
	api := cfg.APIURL
	if api == "" {
		api = DefaultClerkAPIURL
	}
	if err := checkURL("APIURL", api, cfg.InsecureHTTPLoopback); err != nil {
		return nil, err
	}
	api = strings.TrimSuffix(api, "/")
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	size, ttl := cfg.CacheSize, cfg.CacheTTL
	if size <= 0 {
		size = DefaultUsersCacheSize
	}
	if ttl <= 0 {
		ttl = DefaultUsersCacheTTL
	}
	cache, err := ttlcache.New[string](ttlcache.Config{MaxEntries: size, TTL: ttl, Now: cfg.Now})
	if err != nil {
		return nil, fmt.Errorf("clerkauth: %w", err)
	}
	key := cfg.SecretKey
	return &Users{cache: cache, client: clerkuser.NewClient(&clerk.ClientConfig{BackendConfig: clerk.BackendConfig{
		HTTPClient: client, URL: &api, Key: &key}})}, nil
}

// Email returns the user's primary email address when Clerk has verified
// it, and "" otherwise: a user without a primary address (one who signed
// up by phone, username or web3), or whose primary address is unverified,
// has no email to sign in with. Another address on the account never
// stands in for the primary one, verified or not: anyone can add an
// address to their own Clerk account, and an unverified one is only a
// claim. A Backend API failure is an ErrUpstream refusal.
func (c *Users) Email(ctx context.Context, userID string) (string, error) {
	if e, ok := c.cache.Get(userID); ok {
		return e, nil
	}
	u, err := c.client.Get(ctx, userID)
	if err != nil {
		return "", ssoerr.Upstream(ssoerr.ReasonClerkAPI, fmt.Errorf("clerkauth: Clerk user %s: %w", userID, err))
	}
	email := primaryVerifiedEmail(u)
	c.cache.Set(userID, email, time.Time{})
	return email, nil
}

// primaryVerifiedEmail is u's primary email address if its verification
// status is "verified", else "".
func primaryVerifiedEmail(u *clerk.User) string {
	if u.PrimaryEmailAddressID == nil || *u.PrimaryEmailAddressID == "" {
		return ""
	}
	for _, e := range u.EmailAddresses {
		if e == nil || e.ID != *u.PrimaryEmailAddressID {
			continue
		}
		if e.Verification == nil || e.Verification.Status != "verified" {
			return ""
		}
		return e.EmailAddress
	}
	return ""
}
