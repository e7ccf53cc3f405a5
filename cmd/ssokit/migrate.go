package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/ssokit/ssokit/store/sqlstore"
)

// cmdMigrate applies the SQL store's migrations (apply, the default) or
// lists them with whether each is applied (status). The store is --store
// or $SSOKIT_STORE: sqlite:PATH, postgres://… (package sqlstore). A DSN it
// does not accept exits 2; a database it cannot reach or a migration that
// fails exits 1.
func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("store", "", "the store: sqlite:PATH or postgres://… (default $SSOKIT_STORE)")
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	positional, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	action := "apply"
	switch len(positional) {
	case 0:
	case 1:
		action = positional[0]
	default:
		fmt.Fprintf(stderr, "migrate: unexpected arguments %q\n", positional[1:])
		return 2
	}
	if action != "apply" && action != "status" {
		fmt.Fprintf(stderr, "migrate: unknown action %q (want apply or status)\n", action)
		return 2
	}
	// The environment is read after parsing, so --help never prints a DSN
	// (which may hold a password) as a default.
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "store" })
	if !set {
		*dsn = os.Getenv("SSOKIT_STORE")
	}
	if *dsn == "" {
		fmt.Fprintln(stderr, "migrate: no store: pass --store DSN or set SSOKIT_STORE (sqlite:PATH, sqlite::memory:, postgres://…)")
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "migrate:", err)
		if errors.Is(err, sqlstore.ErrDSN) {
			return 2
		}
		return 1
	}
	if action == "status" {
		st, err := sqlstore.Status(ctx, *dsn)
		if err != nil {
			return fail(err)
		}
		if *asJSON {
			type row struct {
				Version   int        `json:"version"`
				Name      string     `json:"name"`
				Applied   bool       `json:"applied"`
				AppliedAt *time.Time `json:"applied_at,omitempty"`
			}
			rows := []row{}
			for _, m := range st {
				r := row{Version: m.Version, Name: m.Name, Applied: m.Applied}
				if m.Applied {
					r.AppliedAt = &m.AppliedAt
				}
				rows = append(rows, r)
			}
			writeJSON(stdout, map[string]any{"migrations": rows})
			return 0
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "VERSION\tNAME\tSTATUS\tAPPLIED AT")
		for _, m := range st {
			state, at := "pending", ""
			if m.Applied {
				state, at = "applied", m.AppliedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", m.Version, m.Name, state, at)
		}
		tw.Flush()
		return 0
	}
	applied, err := sqlstore.Migrate(ctx, *dsn)
	if *asJSON {
		if applied == nil {
			applied = []int{}
		}
		out := map[string]any{"applied": applied}
		if err != nil {
			out["error"] = err.Error()
		}
		writeJSON(stdout, out)
	} else {
		for _, v := range applied {
			fmt.Fprintf(stdout, "applied %d\n", v)
		}
		if err == nil && len(applied) == 0 {
			fmt.Fprintln(stdout, "up to date")
		}
	}
	if err != nil {
		return fail(err)
	}
	return 0
}
