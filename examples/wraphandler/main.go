// Command wraphandler protects an existing net/http handler with Clerk
// session verification: a clerkauth verifier and a middleware
// Authenticator, nothing else (a program that only verifies Clerk tokens
// needs no control plane and links no SAML or OIDC code).
//
//	CLERK_PUBLISHABLE_KEY=pk_... CLERK_SECRET_KEY=sk_... go run ./examples/wraphandler
//	curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/api/whoami
//	curl -X POST -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/api/admin/reindex   # editors and admins
package main

import (
	"encoding/json"
	"flag"
	"log"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/middleware"
	"github.com/ssokit/ssokit/rbac"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()

	var parties []string
	for _, p := range strings.Split(os.Getenv("CLERK_AUTHORIZED_PARTIES"), ",") {
		if p = strings.TrimSpace(p); p != "" { // "https://a.test, https://b.test"
			parties = append(parties, p)
		}
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	v, err := clerkauth.New(clerkauth.Config{
		PublishableKey:    os.Getenv("CLERK_PUBLISHABLE_KEY"),
		SecretKey:         os.Getenv("CLERK_SECRET_KEY"),
		PublicKeyPEM:      os.Getenv("CLERK_JWT_KEY"),
		AuthorizedParties: parties,
		Logger:            logger,
	})
	if err != nil {
		log.Fatalf("wraphandler: %v (see the CLERK_ variables in examples/README.md)", err)
	}
	// Clerk organization roles become app roles for RequireRole.
	auth, err := middleware.NewAuthenticator(middleware.AuthenticatorConfig{Clerk: v, Logger: logger,
		ClerkRoles: map[string]rbac.Role{"org:admin": rbac.Admin, "org:member": rbac.Viewer, "org:editor": rbac.Editor}})
	if err != nil {
		log.Fatal(err)
	}

	// The application's existing handlers, unchanged but for reading the
	// principal.
	api := http.NewServeMux()
	api.HandleFunc("GET /api/whoami", func(w http.ResponseWriter, r *http.Request) {
		p, _ := middleware.PrincipalFrom(r.Context())
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"clerk_user_id": p.ClerkUserID, "session_id": p.SessionID, "email": p.Email,
			"clerk_org_id": p.ClerkOrg.ID, "clerk_org_role": p.ClerkOrg.Role,
		})
	})

	api.HandleFunc("POST /api/admin/reindex", func(w http.ResponseWriter, r *http.Request) {
		p, _ := middleware.PrincipalFrom(r.Context())
		logger.Info("reindex requested", "clerk_user", p.ClerkUserID, "role", p.Role)
		w.WriteHeader(http.StatusAccepted)
	})

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.Handle("/api/", auth.Handler(api))
	// Editors and admins only under /api/admin/.
	mux.Handle("/api/admin/", auth.Handler(auth.RequireRole(rbac.Editor)(api)))

	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second, MaxHeaderBytes: 64 << 10}
	logger.Info("listening", "addr", *addr, "issuer", v.Issuer())
	log.Fatal(srv.ListenAndServe())
}
