package mockidp

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/beevik/etree"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// normalizeSAML replaces what changes on every response (IDs, instants,
// digests, signatures, certificates, random session indexes) with
// placeholders and indents the XML, so the golden files show the shape.
func normalizeSAML(t *testing.T, raw []byte) []byte {
	t.Helper()
	s := string(raw)
	for _, r := range []struct{ re, with string }{
		{`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`, "{INSTANT}"},
		{`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`, "{SECOND}"}, // whole-second instants (OneLogin)
		{`(ID|SessionIndex)="(?:id\d{39}|_[0-9a-f-]{32,36}|pfx[0-9a-f-]{36}|A[0-9a-f]{40})"`, `$1="{ID}"`},
		{`URI="#[^"]+"`, `URI="#{ID}"`},
		{`(DigestValue|SignatureValue|X509Certificate)>[^<]+<`, "$1>{BASE64}<"},
	} {
		s = regexp.MustCompile(r.re).ReplaceAllString(s, r.with)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromString(s); err != nil {
		t.Fatal(err)
	}
	doc.Indent(2)
	out, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSAMLGoldenShapes compares each vendor's response, normalized, with
// testdata/saml/{persona}.xml. Run `go test ./mockidp -run Golden -update`
// after an intended change and review the diff.
func TestSAMLGoldenShapes(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.BaseURL = "http://127.0.0.1:4451"
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range srv.Personas() {
		t.Run(p.Name(), func(t *testing.T) {
			if err := p.RegisterServiceProvider(ServiceProviderConfig{EntityID: "https://sp.example.test/saml/metadata",
				ACSURL: "https://sp.example.test/saml/acs"}); err != nil {
				t.Fatal(err)
			}
			b64, err := p.SAMLResponse("https://sp.example.test/saml/metadata", p.Users()[0].Email, "id-golden-request")
			if err != nil {
				t.Fatal(err)
			}
			got := normalizeSAML(t, decodeB64(t, b64))
			path := filepath.Join("testdata", "saml", p.Name()+".xml")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if string(got) != string(want) {
				t.Errorf("%s differs from the golden file %s; got:\n%s", p.Name(), path, got)
			}
		})
	}
}
