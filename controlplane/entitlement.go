package controlplane

import (
	"net/http"
	"slices"
)

// ssoPlans are the plans whose organizations may save SSO settings. The
// Authenticator has its own list (Config.SSOPlans) for admitting logins;
// both default to these two.
var ssoPlans = []string{"enterprise", "growth"}

// checkSSOPlan refuses SSO settings for an organization whose plan is not
// entitled to SSO (403 plan_not_entitled). It is pure: configureSSO calls
// it inside the store's atomic update, on the plan as stored.
func checkSSOPlan(plan string) error {
	if !slices.Contains(ssoPlans, plan) {
		return &apiError{Status: http.StatusForbidden, Code: codePlanNotEntitled, Message: "single sign-on is not part of the organization's plan"}
	}
	return nil
}
