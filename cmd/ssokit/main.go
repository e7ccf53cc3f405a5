package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ssokit/ssokit/middleware"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage:
  ssokit demo [--app-addr 127.0.0.1:4450] [--mock-addr 127.0.0.1:4451] [--headless]
  ssokit mockidp [--config FILE] [--addr 127.0.0.1:4451] [--tls] [--admin-token T] [--print-config]
  ssokit issuer [--insecure-http-loopback] PUBLISHABLE_KEY
  ssokit verify [flags] TOKEN|-     (ssokit verify -h lists the flags)
`

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "issuer":
		return cmdIssuer(args[1:], stdout, stderr)
	case "verify":
		return cmdVerify(ctx, args[1:], stdin, stdout, stderr)
	case "demo":
		return cmdDemo(ctx, args[1:], stdout, stderr)
	case "mockidp":
		return cmdMockIDP(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "ssokit: unknown command %q\n%s", args[0], usage)
	return 2
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func cmdIssuer(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("issuer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	insecure := fs.Bool("insecure-http-loopback", false, "use http:// for a loopback Frontend API (a local mock Clerk)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	k, err := middleware.ParsePublishableKey(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	instance := "development"
	if k.Live {
		instance = "production"
	}
	iss := k.Issuer(*insecure)
	writeJSON(stdout, map[string]string{
		"frontend_api": k.FrontendAPI,
		"instance":     instance,
		"issuer":       iss,
		"jwks_url":     iss + "/.well-known/jwks.json",
	})
	return 0
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

func cmdVerify(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg middleware.ClerkConfig
	var parties multiFlag
	var keyFile string
	fs.StringVar(&cfg.PublishableKey, "publishable-key", os.Getenv("CLERK_PUBLISHABLE_KEY"), "publishable key; the issuer is derived from it (default $CLERK_PUBLISHABLE_KEY)")
	fs.StringVar(&cfg.Issuer, "issuer", "", "exact issuer, instead of or besides the publishable key")
	fs.StringVar(&cfg.JWKSURL, "jwks-url", "", "JWKS URL (default: the Backend API with --secret-key, else {issuer}/.well-known/jwks.json)")
	fs.StringVar(&cfg.SecretKey, "secret-key", os.Getenv("CLERK_SECRET_KEY"), "secret key for the Backend API JWKS (default $CLERK_SECRET_KEY)")
	fs.StringVar(&cfg.APIURL, "api-url", "", "Backend API base including /v1 (default "+middleware.DefaultClerkAPIURL+")")
	fs.StringVar(&keyFile, "public-key-file", "", "PEM file with the instance's JWT public key: verify with no network")
	fs.Var(&parties, "authorized-party", "accepted azp value (repeatable); when given, azp is required")
	fs.BoolVar(&cfg.InsecureHTTPLoopback, "insecure-http-loopback", false, "allow http for loopback hosts (a local mock Clerk)")
	fs.DurationVar(&cfg.Leeway, "leeway", 0, "clock skew tolerated on exp/nbf/iat (default 5s)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cfg.AuthorizedParties = parties
	if keyFile != "" {
		b, err := os.ReadFile(keyFile)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		cfg.PublicKeyPEM = string(b)
	}
	tok := fs.Arg(0)
	if tok == "-" {
		b, err := io.ReadAll(io.LimitReader(stdin, 1<<20))
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		tok = strings.TrimSpace(string(b))
	}
	v, err := middleware.NewClerkVerifier(cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	p, err := v.Verify(ctx, tok)
	if err != nil {
		resp := middleware.Classify(err)
		detail := err.Error()
		var te *middleware.TokenError
		if errors.As(err, &te) {
			detail = te.Detail
		}
		writeJSON(stdout, map[string]any{"ok": false, "status": resp.Status, "error": resp.Code,
			"reason": middleware.ReasonOf(err), "detail": detail})
		return 1
	}
	writeJSON(stdout, map[string]any{"ok": true, "principal": map[string]any{
		"user_id": p.UserID, "session_id": p.SessionID, "email": p.Email,
		"clerk_org": map[string]any{"id": p.ClerkOrg.ID, "slug": p.ClerkOrg.Slug, "role": p.ClerkOrg.Role, "permissions": p.ClerkOrg.Permissions},
		"issuer":    p.Issuer, "authorized_party": p.AuthorizedParty,
		"expires_at": p.ExpiresAt.UTC().Format(time.RFC3339), "claims": p.RawClaims,
	}})
	return 0
}
