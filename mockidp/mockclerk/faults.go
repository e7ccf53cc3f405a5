package mockclerk

import (
	"fmt"
	"slices"
	"sort"

	"github.com/ssokit/ssokit/mockidp/internal/armed"
)

// Fault is a misbehaviour a mock Clerk instance can be switched into for
// its next N matching events, or until cleared (Clerk.InjectFault).
type Fault string

// The mock Clerk's faults. Their string values are those of the mockidp
// admin API (POST /admin/v1/clerk/{name}/faults).
const (
	JWKSUnavailable Fault = "clerk_jwks_unavailable"
	JWKSSlow        Fault = "clerk_jwks_slow"
	KeyRotated      Fault = "clerk_key_rotated"
	BAPI429         Fault = "clerk_bapi_429"
	BAPI500         Fault = "clerk_bapi_500"
	BAPISlow        Fault = "clerk_bapi_slow"
)

// FaultInfo describes a fault: where it acts and what it does.
type FaultInfo struct {
	// ID names the fault in InjectFault and the admin API.
	ID Fault `json:"id"`
	// Site is where it acts: an endpoint, a token or a response.
	Site string `json:"site"`
	// Description says what the fault does, for people.
	Description string `json:"description"`
}

type faultSite string

const (
	siteJWKS  faultSite = "clerk_jwks"
	siteToken faultSite = "clerk_token"
	siteBAPI  faultSite = "clerk_bapi"
)

var faultCatalog = map[Fault]FaultInfo{
	JWKSUnavailable: {Site: string(siteJWKS), Description: "Clerk JWKS (Frontend and Backend API) answers 503"},
	JWKSSlow:        {Site: string(siteJWKS), Description: "Clerk JWKS answers after 3 seconds"},
	KeyRotated:      {Site: string(siteToken), Description: "Clerk rotates its signing key before the next session token"},
	BAPI429:         {Site: string(siteBAPI), Description: "Backend API answers 429 with Retry-After"},
	BAPI500:         {Site: string(siteBAPI), Description: "Backend API answers 500 in Clerk's error shape"},
	BAPISlow:        {Site: string(siteBAPI), Description: "Backend API answers after 3 seconds"},
}

// Faults lists every fault of a mock Clerk instance, sorted by ID.
func Faults() []FaultInfo {
	out := make([]FaultInfo, 0, len(faultCatalog))
	for id, f := range faultCatalog {
		f.ID = id
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// faultSet tracks armed faults: remaining uses, or -1 for until cleared.
type faultSet = armed.Set[Fault]

// siteOf is where a fault fires.
func siteOf(f Fault) string { return faultCatalog[f].Site }

func hasFault(fs []Fault, f Fault) bool { return slices.Contains(fs, f) }

func unknownFault(f Fault) error { return fmt.Errorf("mockclerk: %q is not a Clerk fault", f) }
