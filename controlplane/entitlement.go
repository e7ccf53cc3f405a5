package controlplane

import (
	"net/http"
	"slices"
)

// checkSSOPlan refuses SSO settings for an organization whose plan is not
// one of plans, the plans entitled to SSO (Config.SSOPlans or admission's
// default, the same list sign-ins are held to), with 403
// plan_not_entitled. It is pure: configureSSO calls it inside the store's
// atomic update, on the plan as stored.
func checkSSOPlan(plans []string, plan string) error {
	if !slices.Contains(plans, plan) {
		return &apiError{Status: http.StatusForbidden, Code: codePlanNotEntitled, Message: "single sign-on is not part of the organization's plan"}
	}
	return nil
}
