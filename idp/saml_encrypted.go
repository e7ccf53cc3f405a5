package idp

import (
	"bytes"
	"crypto/rsa"
	"fmt"

	"github.com/beevik/etree"
	"github.com/crewjam/saml/xmlenc"
)

// Bounds on a response's encrypted assertions, checked before crewjam
// decrypts them: a real response has one, with one or two EncryptedKeys.
const (
	maxEncryptedAssertions = 2
	maxEncryptedKeys       = 8
)

// encryptedShape holds the plaintext of raw's encrypted assertions to
// xmlShape's bounds, which the tokenizing pass over raw sees only as
// ciphertext. Anyone can encrypt to the SP's published certificate, and
// crewjam/saml decrypts an assertion before any signature is checked, then
// parses and canonicalizes the plaintext whole: 45 000 comments in it cost
// seconds of CPU. Each EncryptedAssertion is decrypted every way crewjam
// may decrypt it (every EncryptedKey beside its EncryptedData or in its
// KeyInfo, with every SP decryption key, or the keys on the EncryptedData
// itself when there is no EncryptedKey), and every plaintext that comes
// out is checked; what does not decrypt is left to crewjam, which refuses
// it the same way as before. It returns what is too large, or "".
func (s *samlConnector) encryptedShape(raw []byte) string {
	if !bytes.Contains(raw, []byte("EncryptedAssertion")) {
		return ""
	}
	var keys []*rsa.PrivateKey
	if s.sp.EncryptionKey != nil {
		keys = append(keys, s.sp.EncryptionKey)
	} else if k, ok := s.sp.Key.(*rsa.PrivateKey); ok && k != nil {
		keys = append(keys, k)
	}
	for _, k := range s.sp.DecryptionKeys {
		if k != nil {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return "" // nothing can decrypt it, crewjam neither
	}
	doc := etree.NewDocument()
	if doc.ReadFromBytes(raw) != nil {
		return "" // crewjam refuses it as malformed
	}
	assertions := doc.FindElements("//EncryptedAssertion")
	if len(assertions) > maxEncryptedAssertions {
		return fmt.Sprintf("has more than %d encrypted assertions", maxEncryptedAssertions)
	}
	for _, ea := range assertions {
		// crewjam takes the one EncryptedData in the XML Encryption
		// namespace, so a second one in another namespace must not make
		// this check skip the assertion: a real one has exactly one.
		data := ea.FindElements("./EncryptedData")
		if len(data) > 1 {
			return "has an encrypted assertion with more than one EncryptedData"
		}
		if len(data) == 0 {
			continue // crewjam refuses it
		}
		ed := data[0]
		eks := append(ea.FindElements("./EncryptedKey"), ed.FindElements("./KeyInfo/EncryptedKey")...)
		if len(eks) > maxEncryptedKeys {
			return fmt.Sprintf("has an encrypted assertion with more than %d EncryptedKeys", maxEncryptedKeys)
		}
		var bare *etree.Element // ed without the EncryptedKeys of its KeyInfo, for a content key
		// A content key is tried once: the same one wrapped in each of the
		// EncryptedKeys would otherwise cost a decryption and a check of
		// the whole plaintext for each.
		tried := map[string]bool{}
		for _, k := range keys {
			var plaintexts [][]byte
			if len(eks) == 0 {
				if pt, err := xmlenc.Decrypt(k, ed); err == nil {
					plaintexts = append(plaintexts, pt)
				}
			}
			for _, ek := range eks {
				ck, err := xmlenc.Decrypt(k, ek)
				if err != nil || tried[string(ck)] {
					continue
				}
				tried[string(ck)] = true
				if bare == nil {
					bare = ed.Copy()
					for _, el := range bare.FindElements("./KeyInfo/EncryptedKey") {
						el.Parent().RemoveChild(el)
					}
				}
				if pt, err := xmlenc.Decrypt(ck, bare); err == nil {
					plaintexts = append(plaintexts, pt)
				}
			}
			for _, pt := range plaintexts {
				if shape := xmlShape(pt); shape != "" {
					return "has an encrypted assertion that " + shape
				}
			}
		}
	}
	return ""
}
