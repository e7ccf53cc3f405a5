package prom_test

import (
	"net/http"

	"github.com/ssokit/ssokit/controlplane"
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

// A control plane with its metrics: the decisions through Config.OnEvent,
// the counters through ObserveControlPlane, /metrics beside the app (the
// README's snippet; it starts a server, so it is compiled, not run).
func Example_controlPlane() {
	exp, _ := prom.New() // ssometrics/prom
	m, _ := ssometrics.New(exp.Provider)
	cp, _ := controlplane.New(controlplane.Config{ /* … */ OnEvent: m.Hook()})
	_ = m.ObserveControlPlane(cp)                            // cache and key set counters
	_ = http.ListenAndServe("127.0.0.1:4450", exp.Mount(cp)) // /metrics beside the app
}
