package sso_test

import (
	"fmt"

	"github.com/ssokit/ssokit/sso"
)

func ExampleVendor_Known() {
	fmt.Println(sso.AzureAD, sso.AzureAD.Known(), sso.Vendor("azure").Known())
	// Output: azure_ad true false
}
