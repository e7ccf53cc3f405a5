// Command controlplane is the example control plane: the control-plane API
// (controlplane.New, the one call that assembles it), the Clerk webhook
// endpoint and the dashboard of package controlplane/dashboard ("Sign in
// with SSO" by email; whoami, the organization's SSO status, settings for
// admins and API keys), on a memory store.
//
// Against your Clerk instance:
//
//	export CLERK_PUBLISHABLE_KEY=pk_... CLERK_SECRET_KEY=sk_... \
//	       CLERK_WEBHOOK_SIGNING_SECRET=whsec_... \
//	       CLERK_SIGN_IN_URL=https://accounts.example.com/sign-in \
//	       SSOKIT_SESSION_KEY_FILE=session-key.pem \
//	       SSOKIT_STATE_KEY=$(openssl rand -base64 32) \
//	       SSOKIT_BOOTSTRAP_ADMIN_KEY=$(openssl rand -hex 32)
//	go run ./examples/controlplane --app-url http://localhost:4450
//
// The session cookie is Secure unless the app URL is plain http on a
// loopback host (localhost, 127.0.0.0/8, ::1), where a browser would not
// send it back otherwise; --insecure-cookie drops Secure for another plain
// http host.
//
// Against the mock identity platform, with sample organizations (the same
// code ssokit demo runs, package mockidp/demo):
//
//	go run ./examples/controlplane --demo
package main

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ssokit/ssokit/appsession"
	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/controlplane/dashboard"
	"github.com/ssokit/ssokit/mockidp/demo"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:4450", "listen address")
	appURL := flag.String("app-url", "", "the app's public URL (default http://ADDR)")
	runDemo := flag.Bool("demo", false, "run against the mock identity platform (as ssokit demo)")
	insecureCookie := flag.Bool("insecure-cookie", false, "drop the session cookie's Secure attribute (plain http on a host other than loopback; never behind https)")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *appURL, *runDemo, *insecureCookie, logger); err != nil {
		logger.Error(err.Error())
		os.Exit(1)
	}
}

func run(ctx context.Context, addr, appURL string, runDemo, insecureCookie bool, logger *slog.Logger) error {
	if runDemo {
		d, err := demo.Start(ctx, demo.Config{AppAddr: addr, MockAddr: "127.0.0.1:0",
			AdminKey: os.Getenv("SSOKIT_BOOTSTRAP_ADMIN_KEY"), Logger: logger}) // empty: a random key, in the summary
		if err != nil {
			return err
		}
		defer d.Close()
		fmt.Fprintln(os.Stderr, d.Summary())
		<-ctx.Done()
		return nil
	}
	if appURL == "" {
		appURL = "http://" + addr
	}
	key, err := sessionKey()
	if err != nil {
		return err
	}
	stateKey, previousStateKeys, err := stateKeys()
	if err != nil {
		return err
	}
	u, err := url.Parse(appURL)
	if err != nil {
		return fmt.Errorf("--app-url: %w", err)
	}
	cp, err := controlplane.New(controlplane.Config{
		AppURL:            appURL,
		StateKey:          stateKey,
		PreviousStateKeys: previousStateKeys,
		Clerk: clerkauth.Config{PublishableKey: os.Getenv("CLERK_PUBLISHABLE_KEY"),
			SecretKey: os.Getenv("CLERK_SECRET_KEY"), PublicKeyPEM: os.Getenv("CLERK_JWT_KEY")},
		ClerkSignInURL:    os.Getenv("CLERK_SIGN_IN_URL"),
		WebhookSecret:     os.Getenv("CLERK_WEBHOOK_SIGNING_SECRET"),
		BootstrapAdminKey: os.Getenv("SSOKIT_BOOTSTRAP_ADMIN_KEY"),
		SessionKeys:       []appsession.Key{key},
		// Plain http on a loopback host: not every browser keeps a Secure
		// cookie there, so it is dropped; --insecure-cookie drops it for
		// another plain-http host.
		InsecureCookie: insecureCookie || (u.Scheme == "http" && isLoopback(u.Hostname())),
		ErrorPage:      dashboard.ErrorPage,
		Logger:         logger,
	})
	if err != nil {
		return err
	}
	d, err := dashboard.New(dashboard.Config{API: cp, AppURL: appURL, Logger: logger})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		cp.Run(runCtx) // API keys' last use, in batches and once more at the end
	}()
	srv := &http.Server{Handler: d, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	logger.Info("control plane listening", "url", appURL)
	err = srv.Serve(l)
	stopRun()
	<-ran
	if err != http.ErrServerClosed {
		return err
	}
	return nil
}

// stateKeys reads SSOKIT_STATE_KEY (at least 32 random bytes, base64:
// openssl rand -base64 32, the same on every replica) and, during a
// rotation, SSOKIT_PREVIOUS_STATE_KEYS (the keys it replaced, base64,
// comma-separated), which still verify sign-ins in flight.
func stateKeys() (key []byte, previous [][]byte, err error) {
	s := strings.TrimSpace(os.Getenv("SSOKIT_STATE_KEY"))
	if s == "" {
		return nil, nil, fmt.Errorf("set SSOKIT_STATE_KEY (openssl rand -base64 32), or use --demo")
	}
	if key, err = base64.StdEncoding.DecodeString(s); err != nil {
		return nil, nil, fmt.Errorf("SSOKIT_STATE_KEY: not base64: %w", err)
	}
	for i, p := range strings.Split(os.Getenv("SSOKIT_PREVIOUS_STATE_KEYS"), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		k, err := base64.StdEncoding.DecodeString(p)
		if err != nil {
			return nil, nil, fmt.Errorf("SSOKIT_PREVIOUS_STATE_KEYS: key %d: not base64: %w", i+1, err)
		}
		previous = append(previous, k)
	}
	return key, previous, nil
}

// sessionKey loads the app's signing key from SSOKIT_SESSION_KEY_FILE (PEM
// or JWK) or SSOKIT_SESSION_KEY (PEM text).
func sessionKey() (appsession.Key, error) {
	kid := os.Getenv("SSOKIT_SESSION_KEY_ID")
	if kid == "" {
		kid = "app-1"
	}
	b := []byte(os.Getenv("SSOKIT_SESSION_KEY"))
	if f := os.Getenv("SSOKIT_SESSION_KEY_FILE"); f != "" {
		var err error
		if b, err = os.ReadFile(f); err != nil {
			return appsession.Key{}, err
		}
	}
	if len(b) == 0 {
		return appsession.Key{}, fmt.Errorf("set SSOKIT_SESSION_KEY_FILE (an Ed25519 or RSA private key, PEM or JWK), or use --demo")
	}
	if strings.HasPrefix(strings.TrimSpace(string(b)), "{") {
		return appsession.ParseKeyJWK(b)
	}
	return appsession.ParseKeyPEM(kid, b)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
