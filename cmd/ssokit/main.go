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

	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/middleware"
	"github.com/ssokit/ssokit/ssoerr"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage:
  ssokit demo [--app-addr 127.0.0.1:4450] [--mock-addr 127.0.0.1:4451] [--headless] [-v]
  ssokit mockidp [--config FILE] [--addr 127.0.0.1:4451] [--tls] [--ca-file F] [--admin-token T] [--print-config] [-v]
  ssokit issuer [--insecure-http-loopback] PUBLISHABLE_KEY
  ssokit verify [flags] TOKEN|-
  ssokit migrate [apply|status] [--store DSN] [--json]
  ssokit help [COMMAND]

Flags may come before or after the arguments; "--" ends the flags.
"ssokit COMMAND --help" lists a command's flags.
`

// command is one subcommand: run it with its arguments (after the name).
type command func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int

func commands() map[string]command {
	return map[string]command{
		"issuer": func(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
			return cmdIssuer(args, stdout, stderr)
		},
		"verify": cmdVerify,
		"demo": func(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
			return cmdDemo(ctx, args, stdout, stderr)
		},
		"mockidp": func(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
			return cmdMockIDP(ctx, args, stdout, stderr)
		},
		"migrate": func(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
			return cmdMigrate(ctx, args, stdout, stderr)
		},
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			return commandHelp(ctx, args[1], stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return 0
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "ssokit: unknown command %q\n%s", args[0], usage)
		return 2
	}
	if asksHelp(args[1:]) {
		return commandHelp(ctx, args[0], stdout, stderr)
	}
	return cmd(ctx, args[1:], stdin, stdout, stderr)
}

// asksHelp reports whether args ask for help (-h, -help, --help) before
// any "--" terminator.
func asksHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// commandHelp prints a command's flags to stdout and exits 0, as
// "ssokit --help" does. The command's own flag set prints them: it is run
// with -h alone, which every command answers by printing its flags and
// returning before doing anything.
func commandHelp(ctx context.Context, name string, stdout, stderr io.Writer) int {
	cmd, ok := commands()[name]
	if !ok {
		fmt.Fprintf(stderr, "ssokit: unknown command %q\n%s", name, usage)
		return 2
	}
	for _, line := range strings.Split(usage, "\n") {
		if strings.HasPrefix(line, "  ssokit "+name+" ") {
			fmt.Fprintf(stdout, "usage:\n%s\n\n", line)
		}
	}
	var flags strings.Builder
	cmd(ctx, []string{"-h"}, strings.NewReader(""), io.Discard, &flags)
	fmt.Fprint(stdout, "flags:\n"+strings.TrimPrefix(flags.String(), "Usage of "+name+":\n"))
	return 0
}

// parseInterspersed parses fs over args with the flags allowed before,
// between or after the positional arguments, which it returns. "--" ends
// the flags; "-" (stdin) is an argument.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// Bounds on the files the commands read whole: a public key is a few
// kilobytes, the mock's configuration at most a few hundred.
const (
	maxKeyFile    = 64 << 10
	maxConfigFile = 4 << 20
)

// readFileMax reads the file at path, refusing one larger than max bytes
// (a mistaken path such as /dev/zero or a log file) with an error instead
// of reading it into memory whole.
func readFileMax(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, max)
	}
	return b, nil
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
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(positional) != 1 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	k, err := clerkauth.ParsePublishableKey(positional[0])
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
	var cfg clerkauth.Config
	var parties multiFlag
	var keyFile string
	// The environment's keys are read after parsing, so --help never
	// prints a secret as a default.
	fs.StringVar(&cfg.PublishableKey, "publishable-key", "", "publishable key; the issuer is derived from it (default $CLERK_PUBLISHABLE_KEY)")
	fs.StringVar(&cfg.Issuer, "issuer", "", "exact issuer, instead of or besides the publishable key")
	fs.StringVar(&cfg.JWKSURL, "jwks-url", "", "JWKS URL (default: the Backend API with --secret-key, else {issuer}/.well-known/jwks.json)")
	fs.StringVar(&cfg.SecretKey, "secret-key", "", "secret key for the Backend API JWKS (default $CLERK_SECRET_KEY)")
	fs.StringVar(&cfg.APIURL, "api-url", "", "Backend API base including /v1 (default "+clerkauth.DefaultClerkAPIURL+")")
	fs.StringVar(&keyFile, "public-key-file", "", "PEM file with the instance's JWT public key: verify with no network")
	fs.Var(&parties, "authorized-party", "accepted azp value (repeatable); when given, azp is required")
	fs.BoolVar(&cfg.InsecureHTTPLoopback, "insecure-http-loopback", false, "allow http for loopback hosts (a local mock Clerk)")
	fs.DurationVar(&cfg.Leeway, "leeway", 0, "clock skew tolerated on exp/nbf/iat (default 5s)")
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(positional) != 1 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["publishable-key"] {
		cfg.PublishableKey = os.Getenv("CLERK_PUBLISHABLE_KEY")
	}
	if !set["secret-key"] {
		cfg.SecretKey = os.Getenv("CLERK_SECRET_KEY")
	}
	cfg.AuthorizedParties = parties
	if keyFile != "" {
		b, err := readFileMax(keyFile, maxKeyFile)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		cfg.PublicKeyPEM = string(b)
	}
	tok := positional[0]
	if tok == "-" {
		b, err := io.ReadAll(io.LimitReader(stdin, 1<<20))
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		tok = strings.TrimSpace(string(b))
	}
	v, err := clerkauth.New(cfg)
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
		var refusal *ssoerr.Error
		if errors.As(err, &refusal) {
			detail = refusal.Detail
		}
		writeJSON(stdout, map[string]any{"ok": false, "status": resp.Status, "error": resp.Code,
			"reason": ssoerr.ReasonOf(err), "detail": detail})
		return 1
	}
	writeJSON(stdout, map[string]any{"ok": true, "principal": map[string]any{
		"user_id": p.UserID, "session_id": p.SessionID, "email": p.Email,
		"clerk_org": map[string]any{"id": p.Org.ID, "slug": p.Org.Slug, "role": p.Org.Role, "permissions": p.Org.Permissions},
		"issuer":    p.Issuer, "authorized_party": p.AuthorizedParty,
		"expires_at": p.ExpiresAt.UTC().Format(time.RFC3339), "claims": p.RawClaims,
	}})
	return 0
}
