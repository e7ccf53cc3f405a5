// Command controlplane is the example control plane: a small server-rendered
// dashboard ("Sign in with SSO" by email; whoami, the organization's SSO
// status, settings for admins and API keys), the control-plane API and the
// Clerk webhook endpoint, on a memory store.
//
// Against your Clerk instance:
//
//	export CLERK_PUBLISHABLE_KEY=pk_... CLERK_SECRET_KEY=sk_... \
//	       CLERK_WEBHOOK_SIGNING_SECRET=whsec_... \
//	       CLERK_SIGN_IN_URL=https://accounts.example.com/sign-in \
//	       SSOKIT_SESSION_KEY_FILE=session-key.pem \
//	       SSOKIT_BOOTSTRAP_ADMIN_KEY=$(openssl rand -hex 32)
//	go run ./examples/controlplane --app-url http://localhost:4450
//
// Against the mock identity platform, with sample organizations (the same
// code ssokit demo runs):
//
//	go run ./examples/controlplane --demo
package main

import (
	"context"
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

	"github.com/ssokit/ssokit/examples/controlplane/app"
	"github.com/ssokit/ssokit/examples/controlplane/demo"
	"github.com/ssokit/ssokit/middleware"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:4450", "listen address")
	appURL := flag.String("app-url", "", "the app's public URL (default http://ADDR)")
	runDemo := flag.Bool("demo", false, "run against the mock identity platform (as ssokit demo)")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *appURL, *runDemo, logger); err != nil {
		logger.Error(err.Error())
		os.Exit(1)
	}
}

func run(ctx context.Context, addr, appURL string, runDemo bool, logger *slog.Logger) error {
	if runDemo {
		d, err := demo.Start(ctx, demo.Config{AppAddr: addr, MockAddr: "127.0.0.1:0", Logger: logger})
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
	u, _ := url.Parse(appURL)
	a, err := app.New(app.Config{
		AppURL: appURL,
		Clerk: middleware.ClerkConfig{PublishableKey: os.Getenv("CLERK_PUBLISHABLE_KEY"),
			SecretKey: os.Getenv("CLERK_SECRET_KEY"), PublicKeyPEM: os.Getenv("CLERK_JWT_KEY")},
		ClerkSignInURL:    os.Getenv("CLERK_SIGN_IN_URL"),
		WebhookSecret:     os.Getenv("CLERK_WEBHOOK_SIGNING_SECRET"),
		BootstrapAdminKey: os.Getenv("SSOKIT_BOOTSTRAP_ADMIN_KEY"),
		SessionKey:        key,
		// http://localhost only: a browser drops Secure cookies on plain http.
		InsecureCookie: u != nil && u.Scheme == "http" && isLoopback(u.Hostname()),
		Logger:         logger,
	})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		_ = a.FlushAPIKeyUse(sctx)
	}()
	logger.Info("control plane listening", "url", appURL)
	if err := srv.Serve(l); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// sessionKey loads the app's signing key from SSOKIT_SESSION_KEY_FILE (PEM
// or JWK) or SSOKIT_SESSION_KEY (PEM text).
func sessionKey() (middleware.SessionKey, error) {
	kid := os.Getenv("SSOKIT_SESSION_KEY_ID")
	if kid == "" {
		kid = "app-1"
	}
	b := []byte(os.Getenv("SSOKIT_SESSION_KEY"))
	if f := os.Getenv("SSOKIT_SESSION_KEY_FILE"); f != "" {
		var err error
		if b, err = os.ReadFile(f); err != nil {
			return middleware.SessionKey{}, err
		}
	}
	if len(b) == 0 {
		return middleware.SessionKey{}, fmt.Errorf("set SSOKIT_SESSION_KEY_FILE (an Ed25519 or RSA private key, PEM or JWK), or use --demo")
	}
	if strings.HasPrefix(strings.TrimSpace(string(b)), "{") {
		return middleware.ParseSessionKeyJWK(b)
	}
	return middleware.ParseSessionKeyPEM(kid, b)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
