package ssoevent

import (
	"context"
	"log/slog"
	"time"
)

// Kind says which decision an Event records.
type Kind string

// The kinds of decision.
const (
	// Authentication: a request's credential was checked (middleware).
	Authentication Kind = "authentication"
	// Authorization: an authenticated principal was refused a route for
	// its role or permissions.
	Authorization Kind = "authorization"
	// SignIn: an SSO or password sign-in ended (control plane).
	SignIn Kind = "sign_in"
)

// Outcome is how a decision ended.
type Outcome string

// The outcomes.
const (
	Accepted Outcome = "accepted"
	Refused  Outcome = "refused"
	// Unavailable: a dependency (the Clerk key set, the store, the
	// identity provider) did not answer, so nothing was decided; the
	// request was answered 503.
	Unavailable Outcome = "unavailable"
)

// Event is one decision. Kind, Outcome, Reason, Credential, AuthMethod
// and Protocol come from ssokit's own vocabulary; IdPName may be a name a
// tenant chose; Email, UserID and OrgID name a person and an organization,
// and Check, Method and Path carry text from outside (an identity
// provider's detail, the request line). Keep all but the first group out
// of metric labels, as ssometrics does.
type Event struct {
	Time    time.Time
	Kind    Kind
	Outcome Outcome
	// Reason is the stable reason of a refusal (ssoerr.Reason or an idp
	// Reason*), "" when accepted.
	Reason string
	// Check says in words which check failed, for the people reading an
	// organization's SSO log; "" when accepted. Never a token or an
	// assertion.
	Check string
	// Credential is what the request presented: clerk_session,
	// app_session, api_key or platform_admin ("" for a sign-in).
	Credential string
	// AuthMethod is sso, password or api_key; IdPName the identity
	// provider's name (okta, azure_ad, ...); Protocol saml or oidc.
	AuthMethod, IdPName, Protocol string
	// UserID, OrgID and Email say who, when known. A sign-in's OrgID is the
	// organization resolved from the Clerk organization or the direct
	// connection, never from an address someone typed.
	UserID, OrgID, Email string
	// Method and Path are the HTTP request's, for authentication and
	// authorization events.
	Method, Path string
}

// Hook receives every event of the component it is set on. It is called
// on the request's goroutine and must not block; it must not keep ctx.
type Hook func(ctx context.Context, e Event)

// Level is the slog level an event is logged at: Debug for acceptances,
// Info for refusals and unavailability.
func (e Event) Level() slog.Level {
	if e.Outcome == Accepted {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// Attrs are the event's fields as slog attributes, empty ones left out.
func (e Event) Attrs() []slog.Attr {
	out := make([]slog.Attr, 0, 12)
	out = append(out, slog.String("kind", string(e.Kind)), slog.String("outcome", string(e.Outcome)))
	for _, f := range []struct{ k, v string }{
		{"reason", e.Reason}, {"check", e.Check}, {"credential", e.Credential}, {"auth_method", e.AuthMethod},
		{"idp_name", e.IdPName}, {"protocol", e.Protocol}, {"user_id", e.UserID}, {"org_id", e.OrgID},
		{"email", e.Email}, {"method", e.Method}, {"path", e.Path},
	} {
		if f.v != "" {
			out = append(out, slog.String(f.k, f.v))
		}
	}
	return out
}

// Log writes e to l at e.Level() with e.Attrs(); a nil l writes nothing.
func Log(ctx context.Context, l *slog.Logger, e Event) {
	if l == nil || !l.Enabled(ctx, e.Level()) {
		return
	}
	l.LogAttrs(ctx, e.Level(), "ssokit: "+string(e.Kind)+" "+string(e.Outcome), e.Attrs()...)
}

// Emitter sends events to a logger and a hook, either of which may be
// nil. Its zero value emits nothing. Active lets a caller skip building
// an event nobody reads.
type Emitter struct {
	Logger *slog.Logger
	Hook   Hook
}

// Active reports whether an event at level would go anywhere.
func (em Emitter) Active(ctx context.Context, level slog.Level) bool {
	return em.Hook != nil || (em.Logger != nil && em.Logger.Enabled(ctx, level))
}

// Emit logs e and hands it to the hook.
func (em Emitter) Emit(ctx context.Context, e Event) {
	Log(ctx, em.Logger, e)
	if em.Hook != nil {
		em.Hook(ctx, e)
	}
}
