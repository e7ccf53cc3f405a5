// Package prom publishes ssokit's metrics for Prometheus through
// OpenTelemetry's Prometheus exporter: New returns the MeterProvider to
// hand to ssometrics.New and the http.Handler to mount at /metrics. It is
// for programs (ssokit demo, the example server); libraries use
// ssometrics with the MeterProvider their program chose.
package prom
