package httpsec_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/ssokit/ssokit/internal/httpsec"
)

func Example() {
	const submit = "document.forms[0].submit()"
	mux := httpsec.NewMux()
	mux.HandleFunc("GET /post", func(w http.ResponseWriter, r *http.Request) {
		httpsec.Page(w.Header(), httpsec.CSP{Scripts: []string{submit}, FormAction: []string{"https://sp.example"}})
		fmt.Fprint(w, `<form method="post" action="https://sp.example/acs"></form><script>`+submit+`</script>`)
	})
	h := httpsec.Handler(mux)
	for _, p := range mux.Patterns() {
		req := httptest.NewRequest(http.MethodGet, "/post", nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Println(p, httpsec.Audit(req, rec.Result(), rec.Body.Bytes()))
	}
	fmt.Println(httpsec.CSP{InlineStyles: true}.String())
	// Output:
	// GET /post []
	// default-src 'none'; frame-ancestors 'none'; base-uri 'none'; style-src 'unsafe-inline'; form-action 'none'
}
