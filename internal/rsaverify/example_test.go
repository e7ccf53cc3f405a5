package rsaverify_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"

	"github.com/ssokit/ssokit/internal/rsaverify"
)

func ExampleKey_VerifySHA256() {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	digest := sha256.Sum256([]byte("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEifQ"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, digest[:])
	if err != nil {
		panic(err)
	}

	key, err := rsaverify.Prepare(&priv.PublicKey) // once per key
	if err != nil {
		panic(err)
	}
	fmt.Println(key.VerifySHA256(&digest, sig)) // per token
	sig[0] ^= 1
	fmt.Println(key.VerifySHA256(&digest, sig))
	// Output:
	// <nil>
	// rsaverify: verification error
}
