package mockidp

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/ssokit/ssokit/sso"
)

// setIDRandom is the test hook for the persona's source of generated IDs
// (nil: crypto/rand). Set it before the persona answers.
func (p *Persona) setIDRandom(r io.Reader) { p.saml.rand = r }

// countingReader hands out crypto/rand bytes and records every chunk it
// gave, one per read.
type countingReader struct {
	mu     sync.Mutex
	chunks [][]byte
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := rand.Read(b)
	c.mu.Lock()
	c.chunks = append(c.chunks, bytes.Clone(b[:n]))
	c.mu.Unlock()
	return n, err
}

// fromChunk reports whether id was made from one recorded chunk of at
// least idBytes bytes: its hex appears in the ID (dashes aside), or the ID
// is Okta's decimal rendering of it.
func (c *countingReader) fromChunk(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	plain := strings.ReplaceAll(id, "-", "")
	for _, ch := range c.chunks {
		if len(ch) < idBytes {
			continue
		}
		if strings.Contains(plain, hex.EncodeToString(ch)) || id == oktaID(bytes.NewReader(ch)) {
			return true
		}
	}
	return false
}

// TestSAMLIDGeneratorsReadSixteenBytes checks each vendor's Response and
// Assertion ID generators: at least 16 bytes read, and every one of them
// changes the ID. Okta's IDs read 16 bytes but, being 26 decimal digits,
// hold about 86 bits of them (see oktaID).
func TestSAMLIDGeneratorsReadSixteenBytes(t *testing.T) {
	t.Parallel()
	for vendor, sh := range samlShapes {
		for kind, gen := range map[string]func(io.Reader) string{"response": sh.responseID, "assertion": sh.assertID} {
			t.Run(string(vendor)+"/"+kind, func(t *testing.T) {
				c := &countingReader{}
				id := gen(c)
				total := 0
				for _, ch := range c.chunks {
					total += len(ch)
				}
				if total < idBytes {
					t.Fatalf("%s read %d random bytes, want at least %d", id, total, idBytes)
				}
				src := bytes.Join(c.chunks, nil)
				for i := range idBytes {
					flipped := bytes.Clone(src)
					flipped[i] ^= 0x01
					if gen(bytes.NewReader(flipped)) == id {
						t.Errorf("byte %d of the random input does not reach the ID %s", i, id)
					}
				}
			})
		}
	}
}

// TestSAMLResponseIDsComeFromSixteenRandomBytes makes each persona's
// response, plain and encrypted, with a counting source and checks that
// every ID in it (Response, Assertion, SessionIndex, EncryptedData and
// EncryptedKey) was made from a read of at least 16 bytes, and that no
// read was shorter.
func TestSAMLResponseIDsComeFromSixteenRandomBytes(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.BaseURL = "http://127.0.0.1:4453"
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	spCert, err := selfSigned(spKey(), "ids-sp")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range srv.Personas() {
		for _, encrypt := range []bool{false, true} {
			name := p.Name()
			if encrypt {
				name += "/encrypted"
			}
			t.Run(name, func(t *testing.T) {
				c := &countingReader{}
				p.setIDRandom(c)
				entity := "https://sp.example.test/ids/" + name
				md := spMetadata(entity, "https://sp.example.test/saml/acs")
				md.SPSSODescriptors[0].KeyDescriptors = []saml.KeyDescriptor{{Use: "encryption",
					KeyInfo: saml.KeyInfo{X509Data: saml.X509Data{X509Certificates: []saml.X509Certificate{
						{Data: base64.StdEncoding.EncodeToString(spCert.Leaf.Raw)}}}}}}
				mdXML, err := xml.Marshal(md)
				if err != nil {
					t.Fatal(err)
				}
				if err := p.RegisterServiceProvider(ServiceProviderConfig{MetadataXML: string(mdXML), EncryptAssertions: encrypt}); err != nil {
					t.Fatal(err)
				}
				b64, err := p.SAMLResponse(entity, p.Users()[0].Email, "id-ids-request")
				if err != nil {
					t.Fatal(err)
				}
				doc := etree.NewDocument()
				if err := doc.ReadFromBytes(decodeB64(t, b64)); err != nil {
					t.Fatal(err)
				}
				var ids []string
				collect := func(root *etree.Element) {
					for _, el := range append([]*etree.Element{root}, root.FindElements(".//*")...) {
						for _, a := range el.Attr {
							if a.Space == "" && (a.Key == "ID" || a.Key == "Id" || a.Key == "SessionIndex") {
								ids = append(ids, a.Value)
							}
						}
					}
				}
				collect(doc.Root())
				if encrypt {
					as := etree.NewDocument()
					if err := as.ReadFromBytes(decryptAssertion(t, doc.Root())); err != nil {
						t.Fatal(err)
					}
					collect(as.Root())
				}
				want := 2 // Response and Assertion IDs
				if encrypt {
					want += 2 // EncryptedData and EncryptedKey
				}
				switch p.Vendor() {
				case sso.Okta, sso.AzureAD, sso.GoogleWorkspace:
					// SessionIndex is the request ID (Okta) or the assertion ID.
				default:
					want++
				}
				if len(ids) < want {
					t.Errorf("%d IDs %v, want at least %d", len(ids), ids, want)
				}
				for _, id := range ids {
					if id == "id-ids-request" {
						continue // Okta's SessionIndex: the request's ID
					}
					if !c.fromChunk(id) {
						t.Errorf("ID %s was not made from a read of %d random bytes", id, idBytes)
					}
				}
				for _, ch := range c.chunks {
					if len(ch) < idBytes {
						t.Errorf("a read of %d bytes: every ID takes at least %d", len(ch), idBytes)
					}
				}
			})
		}
	}
}
