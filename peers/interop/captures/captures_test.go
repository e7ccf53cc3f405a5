// Package captures compares the mock identity provider's SAML responses
// with real vendor captures, structurally: element order, namespace
// prefixes and where they are declared, which elements are signed and
// where the Signature sits, algorithms, NameID format, attribute
// NameFormats and value types, timestamp format and ID shapes. The
// captures ship in the module cache with crewjam/saml v0.6.3 and
// russellhaering/gosaml2 v0.12.0 (both required by this module); nothing
// is downloaded. Every difference is listed below with its reason; any
// other fails the test, and so does a listed difference that no longer
// exists (unless it is listed as being fixed in the mock right now; no
// entry is, since those fixes landed).
package captures

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/crewjam/saml/xmlenc"
	"github.com/ssokit/ssokit/mockidp"
)

// modDir is a required module's directory in the module cache.
func modDir(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", path).Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Fatalf("go list -m %s: %v (the module must be in the cache: go mod download)", path, err)
	}
	return dir
}

func read(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(parts...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func unb64(t *testing.T, b []byte) []byte {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(b)), ""))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// difference is a fact where the mock and the capture differ, and why.
type difference struct {
	reason string
	// fixing: being fixed in mockidp/saml_response.go right now; once it
	// matches, the entry is only reported, not failed.
	fixing bool
	// gap: the mock does not imitate it yet, and nobody is changing that
	// now; reported as work left, not claimed to be deliberate.
	gap bool
}

// reference is one capture and the persona it is compared with.
type reference struct {
	name     string
	persona  string
	response func(t *testing.T) *etree.Document
	differs  map[string]difference
}

func references(t *testing.T) []reference {
	cj := filepath.Join(modDir(t, "github.com/crewjam/saml"), "testdata")
	gs := filepath.Join(modDir(t, "github.com/russellhaering/gosaml2"), "providertests", "testdata")
	parse := func(t *testing.T, b []byte) *etree.Document {
		t.Helper()
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(b); err != nil {
			t.Fatal(err)
		}
		return doc
	}
	return []reference{{
		// Okta 2020, Response and Assertion signed (Okta's default) and the
		// assertion encrypted, captured by crewjam/saml for its test SP key.
		name: "okta-2020", persona: "okta",
		response: func(t *testing.T) *etree.Document {
			doc := parse(t, unb64(t, read(t, cj, "TestSPCanHandleOktaResponseEncryptedAssertionBothSigned_response")))
			block, _ := pem.Decode(read(t, cj, "sp_key.pem"))
			key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			decryptInPlace(t, doc, key)
			return doc
		},
		differs: map[string]difference{
			"Assertion.encrypted":       {reason: "the app's \"Assertion Encryption\" was on for the capture; it is off by default in Okta and in the persona (with encryption on, the persona's EncryptedAssertion is compared with this capture's in TestOktaEncryptionMatchesCapture)"},
			"Assertion.attribute-names": {reason: "attribute statements are the app's own (the capture maps one, Username); the persona maps email, firstName, lastName and groups as ssokit's Okta profile expects"},
			"Response.ID":               {reason: "\"id\" and 39 digits, where Okta writes 26: 26 digits hold 86 bits, and every mock ID carries 128 bits of randomness"},
			"Assertion.ID":              {reason: "as Response.ID"},
		},
	}, {
		// Google Workspace 2016, crewjam/saml's plaintext capture.
		name: "google-2016", persona: "google",
		response: func(t *testing.T) *etree.Document {
			return parse(t, unb64(t, read(t, cj, "TestSPCanHandlePlaintextResponse_response")))
		},
		differs: map[string]difference{
			"Response.signed":           {reason: "the capture's app had \"Signed response\" on, so Google signed the Response only; Google's default (off) signs the Assertion only, as the persona does"},
			"Assertion.signed":          {reason: "as Response.signed"},
			"Response.children":         {reason: "as Response.signed: the Signature follows the Issuer of whichever element is signed"},
			"Response.Signature":        {reason: "as Response.signed"},
			"Assertion.Signature":       {reason: "as Response.signed"},
			"Assertion.children":        {reason: "the Signature as Response.signed (the AttributeStatement now precedes the AuthnStatement in both)"},
			"Assertion.attribute-names": {reason: "attribute mappings are the app's own: the capture maps phone, address, jobTitle, firstName, lastName (no email: the NameID is the address; the three without a value have no AttributeValue); the persona maps email, firstName, lastName"},
		},
	}, {
		// OneLogin 2016, crewjam/saml's capture: Response signed with
		// SHA-1, whole-second timestamps, empty AttributeValues. Compared
		// besides OneLogin 2017 because the 2017 app maps no attributes.
		name: "onelogin-2016", persona: "onelogin",
		response: func(t *testing.T) *etree.Document {
			return parse(t, unb64(t, read(t, cj, "TestSPCanHandleOneloginResponse_response")))
		},
		differs: map[string]difference{
			"Assertion.attribute-names": {reason: "attribute mappings and their order are the app's own (the capture's app also maps PersonImmutableID); the persona maps User.email, User.FirstName, User.LastName and memberOf as ssokit's OneLogin profile expects"},
		},
	}, {
		// OneLogin 2017, gosaml2's capture: IdP-initiated, Assertion signed
		// with SHA-1, no attribute statement (none mapped).
		name: "onelogin-2017", persona: "onelogin",
		response: func(t *testing.T) *etree.Document {
			return parse(t, read(t, gs, "onelogin_response.xml"))
		},
		differs: map[string]difference{
			"Response.InResponseTo":           {reason: "the capture is IdP-initiated; the persona answers an AuthnRequest here"},
			"Response.attributes":             {reason: "as Response.InResponseTo"},
			"SubjectConfirmationData":         {reason: "as Response.InResponseTo: InResponseTo on SubjectConfirmationData"},
			"Response.signed":                 {reason: "OneLogin's \"SAML Signature Element\" is per app: the 2017 capture signs the Assertion, crewjam's OneLogin 2016 capture the Response, which the persona follows"},
			"Assertion.signed":                {reason: "as Response.signed"},
			"Response.children":               {reason: "as Response.signed"},
			"Assertion.children":              {reason: "as Response.signed; and the capture has no AttributeStatement (its app maps none)"},
			"Response.Signature":              {reason: "as Response.signed"},
			"Assertion.Signature":             {reason: "as Response.signed"},
			"Response.ID":                     {reason: "OneLogin gives the signed element the pfx ID (the Response in 2016, the Assertion in 2017) and the other R or A and 40 hex digits; the persona signs the Response, so its IDs are 2016's"},
			"Assertion.ID":                    {reason: "as Response.ID"},
			"Assertion.attribute-names":       {reason: "the 2017 capture's app maps no attributes; the persona's attribute statement is compared with OneLogin 2016's"},
			"Assertion.attribute-nameformats": {reason: "as Assertion.attribute-names"},
			"Assertion.attribute-value-types": {reason: "as Assertion.attribute-names"},
			"Assertion.attribute-value-ns":    {reason: "as Assertion.attribute-names"},
		},
	}}
}

// decryptInPlace replaces the EncryptedAssertion with the assertion it
// holds (EncryptedKey inside EncryptedData's KeyInfo or beside it).
func decryptInPlace(t *testing.T, doc *etree.Document, key *rsa.PrivateKey) {
	t.Helper()
	ea := doc.Root().FindElement("./EncryptedAssertion")
	if ea == nil {
		return
	}
	ed := ea.FindElement("./EncryptedData")
	var plain []byte
	if ek := ea.FindElement("./EncryptedKey"); ek != nil {
		sym, err := xmlenc.Decrypt(key, ek)
		if err != nil {
			t.Fatal(err)
		}
		if plain, err = xmlenc.Decrypt(sym, ed); err != nil {
			t.Fatal(err)
		}
	} else {
		// xmlenc finds the key in EncryptedData's KeyInfo itself.
		var err error
		if plain, err = xmlenc.Decrypt(key, ed); err != nil {
			t.Fatal(err)
		}
	}
	inner := etree.NewDocument()
	if err := inner.ReadFromBytes(plain); err != nil {
		t.Fatal(err)
	}
	as := inner.Root()
	as.CreateAttr("ssokit-test-encrypted", "yes") // read by describe, not compared as an attribute
	at := ea.Index()
	doc.Root().RemoveChildAt(at)
	doc.Root().InsertChildAt(at, as)
}

var (
	fracTime  = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.(\d+)Z$`)
	wholeTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
)

// timeShape is the format of a timestamp.
func timeShape(v string) string {
	if m := fracTime.FindStringSubmatch(v); m != nil {
		return fmt.Sprintf("seconds with %d decimals, Z", len(m[1]))
	}
	if wholeTime.MatchString(v) {
		return "whole seconds, Z"
	}
	return "other: " + v
}

// idShape keeps an ID's layout: x for a lower-case hex digit, A for an
// upper-case letter, a for another lower-case letter, runs counted.
func idShape(v string) string {
	var b strings.Builder
	prev, n := rune(0), 0
	flush := func() {
		if n == 0 {
			return
		}
		b.WriteRune(prev)
		if n > 1 {
			fmt.Fprintf(&b, "{%d}", n)
		}
	}
	for _, r := range v {
		c := r
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'f':
			c = 'x'
		case r >= 'A' && r <= 'Z':
			c = 'A'
		case r >= 'a' && r <= 'z':
			c = 'a'
		}
		if c != prev {
			flush()
			prev, n = c, 0
		}
		n++
	}
	flush()
	return b.String()
}

// nsDecls lists the namespace prefixes an element declares ("" for a
// default namespace).
func nsDecls(el *etree.Element) string {
	var out []string
	for _, a := range el.Attr {
		switch {
		case a.Space == "xmlns":
			out = append(out, a.Key)
		case a.Space == "" && a.Key == "xmlns":
			out = append(out, "(default)")
		}
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// attrNames lists an element's attributes that are not namespace
// declarations.
func attrNames(el *etree.Element) string {
	var out []string
	for _, a := range el.Attr {
		if a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") || a.Key == "ssokit-test-encrypted" {
			continue
		}
		out = append(out, a.FullKey())
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

func children(el *etree.Element) string {
	var out []string
	for _, c := range el.ChildElements() {
		out = append(out, c.Tag)
	}
	return strings.Join(out, ",")
}

func uniq(vs []string) string {
	slices.Sort(vs)
	return strings.Join(slices.Compact(vs), " | ")
}

// describe is the structure of a response as facts (name: value).
func describe(doc *etree.Document) map[string]string {
	f := map[string]string{}
	r := doc.Root()
	f["document.xml-declaration"] = fmt.Sprint(len(doc.Child) > 0 && isProcInst(doc.Child[0]))
	var times []string
	var collectTimes func(el *etree.Element)
	collectTimes = func(el *etree.Element) {
		for _, a := range el.Attr {
			switch a.Key {
			case "IssueInstant", "NotBefore", "NotOnOrAfter", "AuthnInstant", "SessionNotOnOrAfter":
				times = append(times, timeShape(a.Value))
			}
		}
		for _, c := range el.ChildElements() {
			collectTimes(c)
		}
	}
	collectTimes(r)
	f["timestamps"] = uniq(times)
	as := r.FindElement("./Assertion")
	var shapes, algorithms []string
	for _, name := range []string{"Response", "Assertion"} {
		el := map[string]*etree.Element{"Response": r, "Assertion": as}[name]
		if el == nil {
			f[name] = "missing"
			continue
		}
		f[name+".prefix"] = el.Space
		f[name+".ns-declared"] = nsDecls(el)
		f[name+".attributes"] = attrNames(el)
		f[name+".children"] = children(el)
		f[name+".ID"] = idShape(el.SelectAttrValue("ID", ""))
		iss := el.FindElement("./Issuer")
		if iss != nil {
			f[name+".Issuer"] = fmt.Sprintf("prefix %s, declares %q, Format %q", iss.Space, nsDecls(iss), iss.SelectAttrValue("Format", ""))
		}
		sig := el.FindElement("./Signature")
		f[name+".signed"] = fmt.Sprint(sig != nil)
		if sig != nil {
			pos := slices.Index(el.ChildElements(), sig)
			f[name+".Signature"] = "first"
			if pos > 0 {
				f[name+".Signature"] = "after " + el.ChildElements()[pos-1].Tag
			}
			shape, algs := describeSignature(el, sig)
			shapes, algorithms = append(shapes, name+": "+shape), append(algorithms, algs)
		}
	}
	f["signature-algorithms"] = uniq(algorithms)
	// A signature's own shape, whichever element it signs: when the mock
	// and a capture sign different elements, this still compares them.
	for i := range shapes {
		_, shapes[i], _ = strings.Cut(shapes[i], ": ")
	}
	f["signature-shape"] = uniq(shapes)
	f["Response.InResponseTo"] = fmt.Sprint(r.SelectAttr("InResponseTo") != nil)
	if st := r.FindElement("./Status"); st != nil {
		f["Status"] = fmt.Sprintf("prefix %s, declares %q, children %s", st.Space, nsDecls(st), children(st))
	}
	if as == nil {
		return f
	}
	f["Assertion.encrypted"] = fmt.Sprint(as.SelectAttr("ssokit-test-encrypted") != nil)
	if nid := as.FindElement("./Subject/NameID"); nid != nil {
		f["NameID"] = "Format " + nid.SelectAttrValue("Format", "(none)") + "; attributes " + attrNames(nid)
	}
	if sc := as.FindElement("./Subject/SubjectConfirmation"); sc != nil {
		f["SubjectConfirmation"] = sc.SelectAttrValue("Method", "")
	}
	if scd := as.FindElement("./Subject/SubjectConfirmation/SubjectConfirmationData"); scd != nil {
		f["SubjectConfirmationData"] = attrNames(scd)
	}
	if c := as.FindElement("./Conditions"); c != nil {
		f["Conditions"] = attrNames(c) + "; children " + children(c)
	}
	if a := as.FindElement("./AuthnStatement"); a != nil {
		f["AuthnStatement"] = attrNames(a)
		f["AuthnStatement.SessionIndex"] = idShape(a.SelectAttrValue("SessionIndex", ""))
		if cr := a.FindElement("./AuthnContext/AuthnContextClassRef"); cr != nil {
			f["AuthnContextClassRef"] = strings.TrimSpace(cr.Text())
		}
	}
	var names, formats, types, valueNS []string
	for _, at := range as.FindElements("./AttributeStatement/Attribute") {
		names = append(names, at.SelectAttrValue("Name", ""))
		formats = append(formats, at.SelectAttrValue("NameFormat", "(none)"))
		for _, v := range at.SelectElements("AttributeValue") {
			types = append(types, v.SelectAttrValue("xsi:type", "(none)"))
			valueNS = append(valueNS, nsDecls(v))
		}
	}
	if len(names) > 0 {
		f["Assertion.attribute-names"] = strings.Join(names, ",")
		f["Assertion.attribute-nameformats"] = uniq(formats)
		f["Assertion.attribute-value-types"] = uniq(types)
		f["Assertion.attribute-value-ns"] = uniq(valueNS)
	}
	return f
}

func isProcInst(tok etree.Token) bool {
	_, ok := tok.(*etree.ProcInst)
	return ok
}

// describeSignature: the Signature's prefix and declaration, c14n,
// transforms, reference and key info; and its algorithms.
func describeSignature(parent, sig *etree.Element) (shape, algorithms string) {
	alg := func(path string) string {
		if e := sig.FindElement(path); e != nil {
			return e.SelectAttrValue("Algorithm", "")
		}
		return "(none)"
	}
	var transforms []string
	for _, tr := range sig.FindElements("./SignedInfo/Reference/Transforms/Transform") {
		s := tr.SelectAttrValue("Algorithm", "")
		if in := tr.FindElement("./InclusiveNamespaces"); in != nil {
			s += fmt.Sprintf(" with InclusiveNamespaces PrefixList=%q (prefix %s, declares %q)", in.SelectAttrValue("PrefixList", ""), in.Space, nsDecls(in))
		}
		transforms = append(transforms, s)
	}
	var keyInfo []string
	if ki := sig.FindElement("./KeyInfo"); ki != nil {
		for _, c := range ki.ChildElements() {
			keyInfo = append(keyInfo, c.Tag+"("+children(c)+")")
		}
	}
	ref := sig.FindElement("./SignedInfo/Reference")
	refOK := ref != nil && ref.SelectAttrValue("URI", "") == "#"+parent.SelectAttrValue("ID", "")
	shape = fmt.Sprintf("prefix %s, declares %q; c14n %s; transforms %s; reference to the element %v; key info %s",
		sig.Space, nsDecls(sig), alg("./SignedInfo/CanonicalizationMethod"), strings.Join(transforms, " + "), refOK, strings.Join(keyInfo, ","))
	return shape, "method " + alg("./SignedInfo/SignatureMethod") + ", digest " + alg("./SignedInfo/Reference/DigestMethod")
}

// TestMockMatchesCaptures compares each persona's response with its
// vendor's capture.
func TestMockMatchesCaptures(t *testing.T) {
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	for _, ref := range references(t) {
		t.Run(ref.name, func(t *testing.T) {
			p := srv.Persona(ref.persona)
			if p == nil {
				t.Fatalf("no persona %s", ref.persona)
			}
			const sp, acs = "https://sp.example/saml/metadata", "https://sp.example/saml/acs"
			if err := p.RegisterServiceProvider(mockidp.ServiceProviderConfig{EntityID: sp, ACSURL: acs}); err != nil {
				t.Fatal(err)
			}
			b64, err := p.SAMLResponse(sp, p.Users()[0].Email, "id-7c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d")
			if err != nil {
				t.Fatal(err)
			}
			mockDoc := etree.NewDocument()
			if err := mockDoc.ReadFromBytes(unb64(t, []byte(b64))); err != nil {
				t.Fatal(err)
			}
			mock, capture := describe(mockDoc), describe(ref.response(t))
			keys := slices.Sorted(func(yield func(string) bool) {
				seen := map[string]bool{}
				for _, m := range []map[string]string{mock, capture} {
					for k := range m {
						if !seen[k] && !yield(k) {
							return
						}
						seen[k] = true
					}
				}
			})
			for _, k := range keys {
				d, listed := ref.differs[k]
				same := mock[k] == capture[k]
				switch {
				case !same && !listed:
					t.Errorf("%s differs, unlisted:\n  capture: %s\n  mock:    %s", k, capture[k], mock[k])
				case !same && d.gap:
					t.Logf("%s differs, not imitated yet (%s):\n  capture: %s\n  mock:    %s", k, d.reason, capture[k], mock[k])
				case !same:
					t.Logf("%s differs (listed: %s):\n  capture: %s\n  mock:    %s", k, d.reason, capture[k], mock[k])
				case listed && d.fixing:
					t.Logf("%s now matches (%s): the entry can go", k, d.reason)
				case listed:
					t.Errorf("%s is listed as a difference (%s) but matches: %s", k, d.reason, mock[k])
				}
			}
			for k := range ref.differs {
				if _, ok := mock[k]; !ok {
					if _, ok := capture[k]; !ok {
						t.Errorf("listed difference %s is no fact of either response", k)
					}
				}
			}
		})
	}
}
