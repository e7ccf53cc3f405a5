module github.com/ssokit/ssokit/peers

go 1.26.0

require (
	github.com/clerk/clerk-sdk-go/v2 v2.4.2
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/ssokit/ssokit v0.0.0-00010101000000-000000000000
)

require (
	github.com/go-jose/go-jose/v3 v3.0.4 // indirect
	github.com/go-jose/go-jose/v4 v4.1.8 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)

replace github.com/ssokit/ssokit => ../
