// Package rsaverify checks RSASSA-PKCS1-v1_5 signatures over SHA-256
// (RS256) with an RSA public key prepared once and kept.
//
// crypto/rsa prepares the key on every call: VerifyPKCS1v15 copies the
// modulus out of the big.Int and computes its Montgomery constants (R² mod
// N above all), which is about a third of the cost of checking one RS256
// signature with a 2048-bit key. A verifier that checks every request's
// token against the same few keys pays that again and again. A Key does it
// once, in Prepare, and then costs only the exponentiation: 17 Montgomery
// multiplications for e = 65537.
//
// Only public values take part in a verification (the key, the signature
// and the digest), so the arithmetic is variable-time, as RSA verification
// may be. The check itself is RFC 8017 section 8.2.2: the signature is
// exactly k bytes and below N, and s^e mod N must equal the whole expected
// encoding 0x00 0x01 0xff… 0x00 DigestInfo(SHA-256) digest, compared byte
// for byte, never parsed.
//
// The word loops are assembly on amd64: MULX with two carry chains (ADCX,
// ADOX) where the CPU has BMI2 and ADX, MULQ where it has not. Elsewhere,
// when built with the purego tag and with GOEXPERIMENT=boringcrypto (whose
// programs mean every check to be BoringSSL's), VerifySHA256 leaves the
// work to crypto/rsa; the portable arithmetic is still built and tested
// there. In FIPS 140-3 mode
// (GODEBUG=fips140=on or only) it leaves the work to crypto/rsa too, so
// that the check is the validated module's and its fips140=only refusals
// hold.
//
// The arithmetic is tested against math/big's modular exponentiation and
// Verify against crypto/rsa, for random and edge values and key sizes from
// 1024 to 4096 bits, and by fuzzing.
package rsaverify
