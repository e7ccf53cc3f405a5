package prom

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// Exporter is a MeterProvider whose instruments a Prometheus scrape of
// Handler reads, on a registry of its own (not Prometheus's global one).
type Exporter struct {
	// Provider makes the meters; hand it to ssometrics.New.
	Provider *sdkmetric.MeterProvider
	// Handler answers scrapes in the Prometheus text format.
	Handler http.Handler
}

// New makes an Exporter.
func New() (*Exporter, error) {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		return nil, err
	}
	return &Exporter{
		Provider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp)),
		Handler:  promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
	}, nil
}

// Mount answers GET /metrics with the exporter's scrape and every other
// request with next: one listener for the app and its metrics. The
// scrape carries only counters with ssokit's closed vocabularies (no
// person, organization or token); put it behind the proxy's rules if it
// should not be public.
func (e *Exporter) Mount(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			e.Handler.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
