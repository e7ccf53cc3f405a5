module github.com/ssokit/ssokit

go 1.26.0

require (
	github.com/beevik/etree v1.8.1
	github.com/clerk/clerk-sdk-go/v2 v2.4.2
	github.com/coreos/go-oidc/v3 v3.21.0
	github.com/crewjam/saml v0.6.3
	github.com/go-jose/go-jose/v4 v4.1.8
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/jonboulle/clockwork v0.5.0
	github.com/russellhaering/goxmldsig v1.6.1
	github.com/svix/svix-webhooks v1.44.0
	golang.org/x/crypto v0.58.0
	golang.org/x/net v0.62.0
	golang.org/x/oauth2 v0.38.0
	golang.org/x/text v0.43.0
	sigs.k8s.io/yaml v1.6.0
)

require (
	github.com/go-jose/go-jose/v3 v3.0.4 // indirect
	github.com/kr/text v0.2.0 // indirect
	github.com/rogpeppe/go-internal v1.16.0 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	go.yaml.in/yaml/v2 v2.4.2 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	gopkg.in/validator.v2 v2.0.1 // indirect
)
