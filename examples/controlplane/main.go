// Command controlplane is the example control plane: the control-plane API
// (controlplane.New, the one call that assembles it), the Clerk webhook
// endpoint and the dashboard of package controlplane/dashboard ("Sign in
// with SSO" by email; whoami, the organization's SSO status, settings for
// admins and API keys), on the store --store names (default the SQLite
// file ./ssokit.db; postgres://… and --redis for replicas).
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
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
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
	"github.com/ssokit/ssokit/ssometrics"
	"github.com/ssokit/ssokit/ssometrics/prom"
)

// options are the command's flags.
type options struct {
	addr, appURL, store, redis string
	demo, insecureCookie       bool
	insecureLoopback           bool
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", "127.0.0.1:4450", "listen address")
	flag.StringVar(&o.appURL, "app-url", "", "the app's public URL (default http://ADDR); every replica behind one URL takes the same")
	// The store and Redis URLs hold passwords: their defaults from the
	// environment are read after parsing, so usage never prints them.
	flag.StringVar(&o.store, "store", "", "the store: sqlite:PATH, or postgres://... for replicas (default $SSOKIT_STORE, else sqlite:./ssokit.db)")
	flag.StringVar(&o.redis, "redis", "", "optional redis://host:port/db for the expiring state (revocations, replay cache, webhook IDs, login counts; default $SSOKIT_REDIS_URL)")
	flag.BoolVar(&o.demo, "demo", false, "run against the mock identity platform (as ssokit demo), in memory")
	flag.BoolVar(&o.insecureCookie, "insecure-cookie", false, "drop the session cookie's Secure attribute (plain http on a host other than loopback; never behind https)")
	flag.BoolVar(&o.insecureLoopback, "insecure-loopback", false, "accept Clerk and identity providers over plain http on loopback (the mock identity platform in tests; never in production)")
	flag.Parse()
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["store"] {
		o.store = envOr("SSOKIT_STORE", "sqlite:./ssokit.db")
	}
	if !set["redis"] { // --redis= turns Redis off whatever the environment says
		o.redis = os.Getenv("SSOKIT_REDIS_URL")
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, logger); err != nil {
		logger.Error(err.Error())
		os.Exit(1)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, o options, logger *slog.Logger) error {
	addr, appURL := o.addr, o.appURL
	if o.demo {
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
	l, appURL, err := listen(addr, appURL)
	if err != nil {
		return err
	}
	defer l.Close()
	key, err := sessionKey()
	if err != nil {
		return err
	}
	stateKey, previousStateKeys, err := stateKeys()
	if err != nil {
		return err
	}
	secretsKeys, err := base64Keys("SSOKIT_SECRETS_KEYS")
	if err != nil {
		return err
	}
	u, err := url.Parse(appURL)
	if err != nil {
		return fmt.Errorf("--app-url: %w", err)
	}
	// ssokit's decisions and counters for Prometheus, at GET /metrics.
	exp, err := prom.New()
	if err != nil {
		return err
	}
	metrics, err := ssometrics.New(exp.Provider)
	if err != nil {
		return err
	}
	storeObserver, err := metrics.StoreObserver()
	if err != nil {
		return err
	}
	cp, err := controlplane.New(controlplane.Config{
		AppURL:            appURL,
		StateKey:          stateKey,
		PreviousStateKeys: previousStateKeys,
		StoreDSN:          o.store,
		RedisURL:          o.redis,
		RedisPrefix:       os.Getenv("SSOKIT_REDIS_PREFIX"),
		SecretsKeys:       secretsKeys,
		Clerk: clerkauth.Config{PublishableKey: os.Getenv("CLERK_PUBLISHABLE_KEY"),
			SecretKey: os.Getenv("CLERK_SECRET_KEY"), PublicKeyPEM: os.Getenv("CLERK_JWT_KEY"),
			APIURL: os.Getenv("CLERK_API_URL"), InsecureHTTPLoopback: o.insecureLoopback},
		InsecureAllowLoopbackIdP: o.insecureLoopback,
		ClerkSignInURL:           os.Getenv("CLERK_SIGN_IN_URL"),
		WebhookSecret:            os.Getenv("CLERK_WEBHOOK_SIGNING_SECRET"),
		BootstrapAdminKey:        os.Getenv("SSOKIT_BOOTSTRAP_ADMIN_KEY"),
		SessionKeys:              []appsession.Key{key},
		// Plain http on a loopback host: not every browser keeps a Secure
		// cookie there, so it is dropped; --insecure-cookie drops it for
		// another plain-http host.
		InsecureCookie: o.insecureCookie || (u.Scheme == "http" && isLoopback(u.Hostname())),
		ErrorPage:      dashboard.ErrorPage,
		Logger:         logger,
		OnEvent:        metrics.Hook(),
		StoreObserver:  storeObserver,
	})
	if err != nil {
		return err
	}
	defer cp.Close()
	if err := metrics.ObserveControlPlane(cp); err != nil {
		return err
	}
	d, err := dashboard.New(dashboard.Config{API: cp, AppURL: appURL, Logger: logger})
	if err != nil {
		return err
	}
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		cp.Run(runCtx) // API keys' last use, in batches and once more at the end
	}()
	srv := &http.Server{Handler: exp.Mount(d), ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: controlplane.MaxHeaderBytes}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	logger.Info("control plane listening", "addr", l.Addr().String(), "url", appURL)
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
	previous, err = base64Keys("SSOKIT_PREVIOUS_STATE_KEYS")
	return key, previous, err
}

// base64Keys reads the environment variable name: keys in base64,
// comma-separated (none when it is unset).
func base64Keys(name string) ([][]byte, error) {
	var keys [][]byte
	for i, p := range strings.Split(os.Getenv(name), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		k, err := base64.StdEncoding.DecodeString(p)
		if err != nil {
			return nil, fmt.Errorf("%s: key %d: not base64: %w", name, i+1, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
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
		if b, err = readKeyFile(f); err != nil {
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

// maxKeyFile bounds SSOKIT_SESSION_KEY_FILE: an RSA private key's PEM or
// JWK is a few kilobytes.
const maxKeyFile = 64 << 10

// readKeyFile reads the key file at path, refusing one larger than
// maxKeyFile (a mistaken path such as /dev/zero) instead of reading it
// into memory whole.
func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxKeyFile {
		return nil, fmt.Errorf("SSOKIT_SESSION_KEY_FILE %s: larger than %d bytes", path, maxKeyFile)
	}
	return b, nil
}

// listen listens on addr and returns the app URL: appURL, or when that is
// empty the http URL of the address listened on (its port, when addr's is
// 0). An address on every interface (0.0.0.0, [::], no host) names no URL
// a browser can reach: then --app-url is needed.
func listen(addr, appURL string) (net.Listener, string, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	if appURL == "" {
		ap, err := netip.ParseAddrPort(l.Addr().String())
		if err != nil || ap.Addr().IsUnspecified() {
			l.Close()
			return nil, "", fmt.Errorf("--addr %s listens on every interface: give --app-url, the URL browsers reach this app at", addr)
		}
		appURL = "http://" + l.Addr().String()
	}
	return l, appURL, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
