module github.com/ssokit/ssokit/examples/chirouter

go 1.26.0

require (
	github.com/go-chi/chi/v5 v5.5.0
	github.com/ssokit/ssokit v0.0.0
)

require (
	github.com/beevik/etree v1.8.1 // indirect
	github.com/clerk/clerk-sdk-go/v2 v2.4.2 // indirect
	github.com/coreos/go-oidc/v3 v3.21.0 // indirect
	github.com/crewjam/saml v0.6.3 // indirect
	github.com/go-jose/go-jose/v3 v3.0.4 // indirect
	github.com/go-jose/go-jose/v4 v4.1.8 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	github.com/jonboulle/clockwork v0.5.0 // indirect
	github.com/russellhaering/goxmldsig v1.6.1 // indirect
	github.com/svix/svix-webhooks v1.44.0 // indirect
	go.yaml.in/yaml/v2 v2.4.4 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/oauth2 v0.38.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	gopkg.in/validator.v2 v2.0.1 // indirect
	sigs.k8s.io/yaml v1.6.0 // indirect
)

replace github.com/ssokit/ssokit => ../..
