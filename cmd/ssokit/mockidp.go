package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
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
	adminToken := fs.String("admin-token", "", "require this Bearer token on /admin/v1/ (default: $SSOKIT_MOCKIDP_ADMIN_TOKEN, which other local users cannot read in the process list; without either, the admin API is open to loopback callers)")
	printConfig := fs.Bool("print-config", false, "print the embedded default configuration and exit")
	verbose := fs.Bool("v", false, "log at debug level")
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
		b, err := readFileMax(*configFile, maxConfigFile)
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
	if cfg.AdminToken == "" {
		cfg.AdminToken = os.Getenv("SSOKIT_MOCKIDP_ADMIN_TOKEN") // read after parsing: --help never prints it
	}
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
		path, err := writeCA(*caFile, srv.CACertPEM())
		if err != nil {
			fmt.Fprintln(stderr, "mockidp: writing the CA certificate:", err)
			return 1
		}
		if *caFile == "" {
			defer os.Remove(path)
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

// writeCA writes the CA certificate where the ready line names it: a new
// file of a random name in the temp directory when path is empty (created
// exclusively, so no other local user's file or link is written through),
// else a new file beside path renamed over it.
func writeCA(path string, pem []byte) (string, error) {
	dir, pattern := os.TempDir(), "ssokit-mockidp-ca-*.pem"
	if path != "" {
		dir, pattern = filepath.Dir(path), "."+filepath.Base(path)+".*"
	}
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", err
	}
	if _, err := f.Write(pem); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	if path == "" {
		return f.Name(), nil
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return path, nil
}
