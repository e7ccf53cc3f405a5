package mockidp

import (
	"strings"
	"testing"
)

// TestParseConfigRefusesUnusableServiceProviders: a configured SAML
// service provider whose metadata is not SAML metadata, or whose
// metadata_url is not an http(s) URL, is a configuration error naming the
// persona, not a warning in the log of a server that then answers
// "unknown service provider".
func TestParseConfigRefusesUnusableServiceProviders(t *testing.T) {
	t.Parallel()
	for name, sp := range map[string]string{
		"metadata_xml not XML":      `{metadata_xml: "not metadata"}`,
		"metadata_xml without ACS":  `{metadata_xml: "<EntityDescriptor xmlns='urn:oasis:names:tc:SAML:2.0:metadata' entityID='https://sp.test'/>"}`,
		"metadata_url file":         `{metadata_url: "file:///etc/passwd"}`,
		"metadata_url without host": `{metadata_url: "https:///metadata"}`,
		"metadata_url not a URL":    `{metadata_url: "sp.test/metadata"}`,
	} {
		_, err := ParseConfig([]byte("personas: [{name: a, vendor: okta, saml: {service_providers: [" + sp + "]}}]"))
		if err == nil || !strings.Contains(err.Error(), "persona a") {
			t.Errorf("%s: %v, want an error naming the persona", name, err)
		}
	}
	good := `personas: [{name: a, vendor: okta, saml: {service_providers: [{metadata_xml: "<EntityDescriptor xmlns='urn:oasis:names:tc:SAML:2.0:metadata' entityID='https://sp.test'><SPSSODescriptor protocolSupportEnumeration='urn:oasis:names:tc:SAML:2.0:protocol'><AssertionConsumerService Binding='urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST' Location='https://sp.test/acs' index='1'/></SPSSODescriptor></EntityDescriptor>"}]}}]`
	if _, err := ParseConfig([]byte(good)); err != nil {
		t.Fatalf("good metadata: %v", err)
	}
}
