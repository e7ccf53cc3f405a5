package sso

import "testing"

func TestKnown(t *testing.T) {
	for _, v := range Vendors() {
		if !v.Known() {
			t.Errorf("%s: not known", v)
		}
	}
	if !Generic.Known() {
		t.Error("generic: not known")
	}
	for _, v := range []Vendor{"", "Okta", "azure", "okta "} {
		if v.Known() {
			t.Errorf("%q: known", v)
		}
	}
}
