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
