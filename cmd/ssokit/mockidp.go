package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"

	"github.com/ssokit/ssokit/mockidp"
)

// cmdMockIDP runs the mock identity platform until ctx ends. Stdout gets
// exactly one line, the JSON ready line; logs go to stderr.
func cmdMockIDP(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mockidp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("config", "", "configuration file, YAML or JSON (default: the embedded one; see --print-config)")
	addr := fs.String("addr", "127.0.0.1:4451", "listen address; 127.0.0.1:0 picks a free port")
	useTLS := fs.Bool("tls", false, "serve https with a CA generated at start (its certificate is written to --ca-file)")
	caFile := fs.String("ca-file", "", "where --tls writes the CA certificate (default: a file in the temp directory, named in the ready line)")
	adminToken := fs.String("admin-token", "", "require this Bearer token on /admin/v1/ (default: admin API open to loopback callers)")
	printConfig := fs.Bool("print-config", false, "print the embedded default configuration and exit")
	verbose := fs.Bool("v", false, "log requests errors at debug level")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "mockidp: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *printConfig {
		stdout.Write(mockidp.DefaultConfigYAML())
		return 0
	}
	cfg := mockidp.DefaultConfig()
	if *configFile != "" {
		b, err := os.ReadFile(*configFile)
		if err != nil {
			fmt.Fprintln(stderr, "mockidp:", err)
			return 1
		}
		if cfg, err = mockidp.ParseConfig(b); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg.AdminToken = *adminToken
	srv, err := mockidp.New(cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *useTLS {
		err = srv.ListenTLS(*addr)
	} else {
		err = srv.Listen(*addr)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer srv.Close()
	ready := map[string]any{"ready": true, "url": srv.URL}
	if *useTLS {
		path := *caFile
		if path == "" {
			_, port, _ := net.SplitHostPort(srv.URL[len("https://"):])
			path = filepath.Join(os.TempDir(), "ssokit-mockidp-ca-"+port+".pem")
		}
		if err := os.WriteFile(path, srv.CACertPEM(), 0o644); err != nil {
			fmt.Fprintln(stderr, "mockidp: writing the CA certificate:", err)
			return 1
		}
		ready["ca_file"] = path
	}
	line, _ := json.Marshal(ready)
	fmt.Fprintf(stdout, "%s\n", line)
	for _, p := range srv.Personas() {
		cfg.Logger.Info("persona", "name", p.Name(), "vendor", p.Vendor(), "issuer", p.Issuer())
	}
	<-ctx.Done()
	cfg.Logger.Info("shutting down")
	return 0
}
