package prom_test

import (
	"net/http"

	"github.com/ssokit/ssokit/ssometrics"
	"github.com/ssokit/ssokit/ssometrics/prom"
)

// A program mounts the exporter's handler at /metrics and gives its
// provider to ssometrics.
func Example() {
	exp, err := prom.New()
	if err != nil {
		panic(err)
	}
	if _, err := ssometrics.New(exp.Provider); err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", exp.Handler)
	_ = mux
}
