//go:build !purego && !goexperiment.boringcrypto

// FIPS 140-3 mode cannot start with the purego tag, nor with boringcrypto.

package rsaverify

import (
	"crypto"
	"crypto/fips140"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// TestFIPS140OnlyRefusesAsCryptoRSA runs itself again with
// GODEBUG=fips140=only, where crypto/rsa refuses a 1024-bit key that
// Prepare accepts: VerifySHA256 must refuse a valid signature too.
func TestFIPS140OnlyRefusesAsCryptoRSA(t *testing.T) {
	if os.Getenv("RSAVERIFY_FIPS140_CHILD") == "1" {
		fipsOnlyChild(t)
		return
	}
	switch runtime.GOOS {
	case "js", "wasip1", "ios", "android":
		t.Skipf("cannot run the test binary again on %s", runtime.GOOS)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFIPS140OnlyRefusesAsCryptoRSA$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "GODEBUG=fips140=only", "RSAVERIFY_FIPS140_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestFIPS140OnlyRefusesAsCryptoRSA") {
		t.Fatalf("with GODEBUG=fips140=only: %v\n%s", err, out)
	}
}

func fipsOnlyChild(t *testing.T) {
	if !fips140.Enforced() {
		t.Fatal("GODEBUG=fips140=only is not in force")
	}
	digest := sha256.Sum256([]byte("header.payload"))
	var priv *rsa.PrivateKey
	var sig []byte
	fips140.WithoutEnforcement(func() {
		var err error
		if priv, err = rsa.GenerateKey(rand.Reader, 1024); err != nil {
			t.Fatal(err)
		}
		if sig, err = rsa.SignPKCS1v15(nil, priv, crypto.SHA256, digest[:]); err != nil {
			t.Fatal(err)
		}
		if rsa.VerifyPKCS1v15(&priv.PublicKey, crypto.SHA256, digest[:], sig) != nil {
			t.Fatal("the signature does not verify without enforcement")
		}
	})
	if rsa.VerifyPKCS1v15(&priv.PublicKey, crypto.SHA256, digest[:], sig) == nil {
		t.Fatal("crypto/rsa accepts a 1024-bit key under fips140=only")
	}
	k, err := Prepare(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.VerifySHA256(&digest, sig); err != ErrVerification {
		t.Fatalf("VerifySHA256 = %v under fips140=only, want ErrVerification as crypto/rsa refuses the key", err)
	}
}
