// Command integrationtest is a team's small app — a notes API behind Clerk
// SSO — and, in main_test.go, how that team tests it with ssokit's mock
// identity platform: no Clerk account, no Okta tenant, no network.
//
// The app: GET /notes for every member (viewer and up), POST /notes for
// editors and admins, the SSO routes and Clerk webhooks from package
// controlplane. Run its tests with
//
//	go test ./examples/integrationtest
//
// or the app itself against the mock platform with
//
//	go run ./examples/integrationtest
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/middleware"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/store"
)

// newApp is the team's app: its own handlers, protected by ssokit. The
// control plane (SSO routes, Clerk webhooks, whoami) comes from one call,
// controlplane.New, with the configuration the caller gives; its
// Authenticator guards the team's routes too.
func newApp(cfg controlplane.Config) (http.Handler, *controlplane.API, error) {
	api, err := controlplane.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	auth := api.Authenticator()
	n := &notes{}
	mux := http.NewServeMux()
	mux.Handle("/auth/", api)
	mux.Handle("/v1/", api)
	mux.Handle("/webhooks/", api)
	mux.Handle("GET /notes", auth.Handler(auth.RequirePermission("notes:read")(http.HandlerFunc(n.list))))
	mux.Handle("POST /notes", auth.Handler(auth.RequirePermission("notes:write")(http.HandlerFunc(n.add))))
	return mux, api, nil
}

// mockConfig is the control plane's configuration against the mock
// platform's Clerk: keys made now (a state key, an ephemeral session key)
// and a session cookie without Secure, for plain http on loopback.
func mockConfig(appURL string, mock *mockidp.Server, st store.Store) (controlplane.Config, error) {
	clerk := mock.Clerk("clerk")
	stateKey := make([]byte, 32)
	if _, err := rand.Read(stateKey); err != nil {
		return controlplane.Config{}, err
	}
	return controlplane.Config{
		AppURL:   appURL,
		StateKey: stateKey,
		Store:    st,
		Clerk: clerkauth.Config{PublishableKey: clerk.PublishableKey(), SecretKey: clerk.SecretKey(),
			APIURL: clerk.BackendAPIURL(), InsecureHTTPLoopback: true},
		ClerkSignInURL:      clerk.SignInURL(),
		WebhookSecret:       clerk.WebhookSigningSecret(),
		EphemeralSessionKey: true,
		InsecureCookie:      true,
		HTTPClient:          mock.Client(),
		// The mock IdP listens on 127.0.0.1; never set this in production.
		InsecureAllowLoopbackIdP: true,
	}, nil
}

// notes is the team's own code: it only reads the Principal.
type notes struct {
	mu    sync.Mutex
	items []note
}

type note struct {
	Org    string `json:"org"`
	Author string `json:"author"`
	Text   string `json:"text"`
}

func (n *notes) list(w http.ResponseWriter, r *http.Request) {
	p, _ := middleware.PrincipalFrom(r.Context())
	n.mu.Lock()
	out := []note{}
	for _, it := range n.items {
		if it.Org == p.OrgID {
			out = append(out, it)
		}
	}
	n.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func (n *notes) add(w http.ResponseWriter, r *http.Request) {
	p, _ := middleware.PrincipalFrom(r.Context())
	var in struct {
		Text string `json:"text"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&in); err != nil || in.Text == "" {
		http.Error(w, `{"error":"invalid_json","message":"want {\"text\":\"...\"}"}`, http.StatusBadRequest)
		return
	}
	n.mu.Lock()
	n.items = append(n.items, note{Org: p.OrgID, Author: p.Email, Text: in.Text})
	n.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
}

// seed is the organization the tests (and main) use: Acme, signing in
// through Okta via Clerk, admins -> admin, engineering -> editor.
func seed(ctx context.Context, st store.Store) error {
	now := time.Now()
	return st.CreateOrg(ctx, store.Org{ID: "acme", Name: "Acme", Plan: "enterprise", ClerkOrgID: "org_acme",
		AllowedDomains: []string{"acme.test"}, DefaultRole: "viewer", AutoCreateUsers: true, SSOConfigured: true,
		GroupRoles: []store.GroupRule{{Group: "admins", Role: "admin"}, {Group: "engineering", Role: "editor"}},
		Created:    now, Updated: now})
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	mock, err := mockidp.NewServer(mockidp.DefaultConfig())
	if err != nil {
		log.Fatal(err)
	}
	defer mock.Close()
	const addr = "127.0.0.1:4460"
	st, err := store.NewMemory(store.MemoryConfig{})
	if err != nil {
		log.Fatal(err)
	}
	if err := seed(ctx, st); err != nil {
		log.Fatal(err)
	}
	cfg, err := mockConfig("http://"+addr, mock, st)
	if err != nil {
		log.Fatal(err)
	}
	h, api, err := newApp(cfg)
	if err != nil {
		log.Fatal(err)
	}
	go api.Run(ctx)
	mock.Clerk("clerk").SetWebhooks("http://" + addr + "/webhooks/clerk")
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: controlplane.MaxHeaderBytes}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	fmt.Fprintf(os.Stderr, "notes app on http://%s (sign in: http://%s/auth/sso/start?email=alice@acme.test&return_to=/notes)\n", addr, addr)
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
