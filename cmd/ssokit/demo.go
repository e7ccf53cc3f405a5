package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/ssokit/ssokit/mockidp/demo"
)

// cmdDemo runs the mock identity platform and the demo control plane with
// its dashboard (package mockidp/demo) until ctx ends. Stdout gets exactly
// one line, the JSON ready line; the summary and logs go to stderr.
//
// The demo serves plain http on loopback, so its session cookie is not
// Secure (controlplane.Config.InsecureCookie, set by mockidp/demo); its
// session key and state key are made at start and die with it.
func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	appAddr := fs.String("app-addr", "127.0.0.1:4450", "the control plane's address; 127.0.0.1:0 picks a free port")
	mockAddr := fs.String("mock-addr", "127.0.0.1:4451", "the mock identity platform's address")
	headless := fs.Bool("headless", false, "mock IdPs sign a login_hint's user in without their login page")
	verbose := fs.Bool("v", false, "log at debug level")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "demo: unexpected arguments %q\n", fs.Args())
		return 2
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	d, err := demo.Start(ctx, demo.Config{AppAddr: *appAddr, MockAddr: *mockAddr, Headless: *headless,
		AdminKey: os.Getenv("SSOKIT_BOOTSTRAP_ADMIN_KEY"), Logger: logger})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer d.Close()
	fmt.Fprintln(stderr, d.Summary())
	logger.Warn("app sessions are signed with an ephemeral key made at start: sessions end when the demo stops; configure a key for real use")
	logger.Warn("the session cookie is not Secure: the demo serves plain http on loopback")
	line, _ := json.Marshal(map[string]any{"ready": true, "app": d.AppURL, "mock": d.MockURL})
	fmt.Fprintf(stdout, "%s\n", line)
	<-ctx.Done()
	logger.Info("shutting down")
	return 0
}
