package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/appsession"
	"github.com/ssokit/ssokit/client"
	"github.com/ssokit/ssokit/internal/testenv"
	"github.com/ssokit/ssokit/mockidp"
)

// TestReplicasOnPostgresAndRedis runs two processes of this command as
// replicas behind one app URL, on one PostgreSQL schema and one Redis key
// prefix, against the mock identity platform in the test process: a
// session begun on one replica works on the other; after both restart
// (SIGTERM, a clean exit, the same settings) the organization, its people
// and the sessions are still there and a logout made before the restart
// still holds (PostgreSQL and Redis, not the processes, keep the state);
// a sign-in begun on the other replica completes; and a session logged out
// on one replica is refused by the other.
func TestReplicasOnPostgresAndRedis(t *testing.T) {
	dsn := testenv.PostgresSchema(t) // skips (fails in CI) without PostgreSQL
	redisURL, prefix := testenv.RedisPrefix(t)
	bin := buildCommand(t)
	ctx := t.Context()

	mock := mockidp.Start(t, mockidp.DefaultConfig())
	clerk := mock.Clerk("clerk")

	// The "load balancer": two loopback ports behind the one app URL,
	// which is replica A's (Clerk sends the browser back there). Cookies
	// ignore ports, so a browser's cookie for 127.0.0.1 reaches both.
	addrs := freeAddrs(t, 2)
	addrA, addrB := addrs[0], addrs[1]
	appURL := "http://" + addrA
	stateKey := make([]byte, 32)
	rand.Read(stateKey)
	const adminKey = "replicas-test-bootstrap-admin-key"
	env := []string{
		"SSOKIT_STATE_KEY=" + base64.StdEncoding.EncodeToString(stateKey),
		"SSOKIT_SESSION_KEY=" + sessionKeyPEM(t),
		"SSOKIT_BOOTSTRAP_ADMIN_KEY=" + adminKey,
		"SSOKIT_REDIS_PREFIX=" + prefix,
		"CLERK_PUBLISHABLE_KEY=" + clerk.PublishableKey(),
		"CLERK_SECRET_KEY=" + clerk.SecretKey(),
		"CLERK_API_URL=" + clerk.BackendAPIURL(),
		"CLERK_SIGN_IN_URL=" + clerk.SignInURL(),
		"CLERK_WEBHOOK_SIGNING_SECRET=" + clerk.WebhookSigningSecret(),
	}
	args := []string{"--app-url", appURL, "--store", dsn, "--redis", redisURL, "--insecure-loopback"}
	a := &replica{name: "A", bin: bin, addr: addrA, args: args, env: env}
	b := &replica{name: "B", bin: bin, addr: addrB, args: args, env: env}
	startAll(t, a, b)

	admin, err := client.New(client.Config{BaseURL: a.url(), Token: adminKey})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Organizations.Create(ctx, "acme", "acme", "enterprise"); err != nil {
		t.Fatalf("create acme through A: %v", err)
	}
	if _, err := admin.Organizations.ConfigureSSO(ctx, "acme", api.SSOSettings{ClerkOrgID: "org_acme", AllowedDomains: []string{"acme.test"},
		DefaultRole: "viewer", AutoCreateUsers: true, GroupRoles: []api.GroupRule{{Group: "admins", Role: "admin"}}}); err != nil {
		t.Fatalf("configure acme's SSO through A: %v", err)
	}

	// Alice signs in on A; her session works on B.
	alice := newBrowser(t, mock)
	aliceMe := signIn(t, alice, a, "alice@acme.test")
	if aliceMe.Role != "admin" {
		t.Fatalf("alice's role %q, want admin (group admins): %+v", aliceMe.Role, aliceMe)
	}
	expectUser(t, alice, b, aliceMe.UserID)

	// A second session of alice's, begun on B and ended on A before the
	// restart: its revocation (in Redis) must outlive the processes.
	ended := newBrowser(t, mock)
	if me := signIn(t, ended, b, "alice@acme.test"); me.UserID != aliceMe.UserID {
		t.Fatalf("alice's second sign-in is user %s, the first %s", me.UserID, aliceMe.UserID)
	}
	endedReplay := replayJar(t, mock, ended, a)
	expectUser(t, endedReplay, b, aliceMe.UserID)
	logout(t, ended, a)
	expectRefused(t, endedReplay, b, 3*time.Second)

	// Both replicas stop (gracefully) and start again on the same store.
	stopAll(t, a, b)
	startAll(t, a, b)

	expectUser(t, alice, a, aliceMe.UserID)
	expectUser(t, alice, b, aliceMe.UserID)
	expectRefused(t, endedReplay, a, 0)
	expectRefused(t, endedReplay, b, 0)
	st, err := admin.Organizations.SSOStatus(ctx, "acme")
	if err != nil || !st.SSOEnabled || st.TotalSSOUsers != 1 || st.LastLogin == nil {
		t.Fatalf("acme's SSO status after the restart: %+v %v", st, err)
	}
	// The SSO log is in PostgreSQL: both sign-ins outlived the restart.
	if evs, err := admin.Organizations.SSOEvents(ctx, "acme", 0); err != nil || len(evs) != 2 || evs[0].Outcome != "accepted" || evs[1].Email != "alice@acme.test" {
		t.Fatalf("acme's SSO log after the restart: %+v %v", evs, err)
	}
	expectUsers(t, admin, aliceMe.UserID)

	// Bob's sign-in begins on B (Clerk sends him back to the app URL, A).
	bob := newBrowser(t, mock)
	bobMe := signIn(t, bob, b, "bob@acme.test")
	if bobMe.Role != "viewer" || bobMe.UserID == aliceMe.UserID {
		t.Fatalf("bob's whoami %+v (alice is %s)", bobMe, aliceMe.UserID)
	}
	expectUser(t, bob, b, bobMe.UserID)
	expectUsers(t, admin, aliceMe.UserID, bobMe.UserID)
	// Each process answers GET /metrics. A's counters started again at
	// the restart, and Bob's sign-in ended on A (the app URL): its scrape
	// shows exactly that one.
	resp, err := http.Get(a.url() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	scrape, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	const bobSignIn = `ssokit_decisions_total{auth_method="sso",credential="",idp_name="okta",kind="sign_in",outcome="accepted",reason=""} 1`
	if !strings.Contains(string(scrape), bobSignIn+"\n") || strings.Contains(string(scrape), "bob@acme.test") {
		t.Fatalf("A's /metrics lacks %s (or names bob):\n%s", bobSignIn, scrape)
	}
	for _, series := range []string{`ssokit_store_duration_seconds_count{op="read",outcome="ok",store="sql"}`,
		`ssokit_store_duration_seconds_count{op="command",outcome="ok",store="redis"}`} {
		if !strings.Contains(string(scrape), series+" ") {
			t.Errorf("A's /metrics lacks %s", series)
		}
	}

	// Alice logs out on B: her old cookie, replayed from another jar, is
	// refused by A.
	replay := replayJar(t, mock, alice, a)
	expectUser(t, replay, a, aliceMe.UserID) // the copied cookie alone is a session
	logout(t, alice, b)
	expectRefused(t, replay, a, 3*time.Second)
	// Bob's session is untouched.
	expectUser(t, bob, a, bobMe.UserID)
}

// replica is one process of the command on addr. Its output, over every
// start, is kept in logs and shown when the test fails.
type replica struct {
	name, bin, addr string
	args, env       []string
	logs            testenv.LogBuffer
	cmd             *exec.Cmd
	done            chan struct{} // closed when cmd has exited
	started         int
}

func (r *replica) url() string { return "http://" + r.addr }

// start runs the process; ready waits for it to answer.
func (r *replica) start(t *testing.T) {
	t.Helper()
	r.started++
	if r.started == 1 {
		t.Cleanup(func() {
			r.kill()
			if t.Failed() {
				t.Logf("replica %s (%s) output:\n%s", r.name, r.addr, r.logs.String())
			}
		})
	}
	r.logs.WriteString(fmt.Sprintf("--- start %d\n", r.started))
	cmd := exec.Command(r.bin, append([]string{"--addr", r.addr}, r.args...)...)
	cmd.Env = append(cleanEnv(), r.env...)
	cmd.Stdout, cmd.Stderr = &r.logs, &r.logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("replica %s: %v", r.name, err)
	}
	r.cmd, r.done = cmd, make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(r.done)
}

// ready polls GET /v1/auth/whoami until the process answers 401 (up to
// 20 s).
func (r *replica) ready(t *testing.T) {
	t.Helper()
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := hc.Get(r.url() + "/v1/auth/whoami")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return
			}
			t.Fatalf("replica %s: whoami without credentials answered %d, want 401", r.name, resp.StatusCode)
		}
		select {
		case <-r.done:
			t.Fatalf("replica %s exited before answering: %v", r.name, r.cmd.ProcessState)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %s does not answer after 20 s: %v", r.name, err)
		}
	}
}

// stop sends SIGTERM and expects a graceful exit, status 0, within 10 s.
func (r *replica) stop(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("replica %s: %v", r.name, err)
	}
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		r.kill()
		t.Fatalf("replica %s did not stop within 10 s of SIGTERM", r.name)
	}
	if !r.cmd.ProcessState.Success() {
		t.Fatalf("replica %s stopped with %v", r.name, r.cmd.ProcessState)
	}
}

// kill ends the process if it still runs and waits for it.
func (r *replica) kill() {
	if r.cmd == nil {
		return
	}
	select {
	case <-r.done:
	default:
		_ = r.cmd.Process.Kill()
		<-r.done
	}
}

func startAll(t *testing.T, rs ...*replica) {
	t.Helper()
	for _, r := range rs {
		r.start(t)
	}
	for _, r := range rs {
		r.ready(t)
	}
}

func stopAll(t *testing.T, rs ...*replica) {
	t.Helper()
	for _, r := range rs {
		r.stop(t)
	}
}

// buildCommand builds this command into a temporary directory.
func buildCommand(t *testing.T) string {
	t.Helper()
	gobin := testenv.LookPath(t, "go", "install Go 1.26")
	bin := filepath.Join(t.TempDir(), "controlplane")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gobin, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// cleanEnv is the test's environment without the variables the command
// reads (SSOKIT_*, CLERK_*), so only the test's settings reach it.
func cleanEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "SSOKIT_") || strings.HasPrefix(kv, "CLERK_")
	})
}

// freeAddrs are n distinct loopback addresses with ports nothing
// listened on a moment ago.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var addrs []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close() // held until all are chosen, so they differ
		addrs = append(addrs, l.Addr().String())
	}
	return addrs
}

// sessionKeyPEM is a new Ed25519 private key in PKCS#8 PEM, the form
// SSOKIT_SESSION_KEY takes.
func sessionKeyPEM(t *testing.T) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// newBrowser is a client of the mock with a cookie jar of its own.
func newBrowser(t *testing.T, mock *mockidp.Server) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := mock.Client()
	hc.Jar = jar
	hc.Timeout = 10 * time.Second
	return hc
}

// signIn signs email in with SSO, starting on r, and returns the whoami
// the sign-in ends on.
func signIn(t *testing.T, hc *http.Client, r *replica, email string) api.Whoami {
	t.Helper()
	resp, err := mockidp.Browse(hc, r.url()+"/auth/sso/start?"+url.Values{"email": {email}, "return_to": {"/v1/auth/whoami"}}.Encode())
	if err != nil {
		t.Fatalf("sign-in of %s on %s: %v", email, r.name, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in of %s on %s ended on %s with %d: %s", email, r.name, resp.Request.URL, resp.StatusCode, body)
	}
	var me api.Whoami
	if err := json.Unmarshal(body, &me); err != nil {
		t.Fatalf("sign-in of %s on %s ended on %s with %s: %v", email, r.name, resp.Request.URL, body, err)
	}
	if me.Email != email || me.OrgID != "acme" || me.AuthMethod != "sso" || me.UserID == "" {
		t.Fatalf("sign-in of %s on %s: whoami %+v", email, r.name, me)
	}
	return me
}

// whoami is GET /v1/auth/whoami on r with hc's cookies.
func whoami(t *testing.T, hc *http.Client, r *replica) (int, []byte) {
	t.Helper()
	resp, err := hc.Get(r.url() + "/v1/auth/whoami")
	if err != nil {
		t.Fatalf("whoami on %s: %v", r.name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("whoami on %s: %v", r.name, err)
	}
	return resp.StatusCode, body
}

// expectUser checks that hc's session on r is userID.
func expectUser(t *testing.T, hc *http.Client, r *replica, userID string) {
	t.Helper()
	status, body := whoami(t, hc, r)
	var me api.Whoami
	if status != http.StatusOK || json.Unmarshal(body, &me) != nil || me.UserID != userID {
		t.Fatalf("whoami on %s: %d %s, want user %s", r.name, status, body, userID)
	}
}

// expectUsers checks that acme's people are exactly userIDs.
func expectUsers(t *testing.T, admin *client.Client, userIDs ...string) {
	t.Helper()
	users, err := admin.Organizations.Users(t.Context(), "acme")
	if err != nil {
		t.Fatalf("acme's users: %v", err)
	}
	var got []string
	for _, u := range users {
		got = append(got, u.ID)
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(userIDs))
	if !slices.Equal(got, want) {
		t.Fatalf("acme's users %v, want %v", got, want)
	}
}

// replayJar is a new browser holding only the app session cookie hc
// holds for r.
func replayJar(t *testing.T, mock *mockidp.Server, hc *http.Client, r *replica) *http.Client {
	t.Helper()
	u := mustURL(t, r.url())
	cookies := slices.DeleteFunc(hc.Jar.Cookies(u), func(c *http.Cookie) bool { return c.Name != appsession.DefaultCookie })
	if len(cookies) != 1 {
		t.Fatalf("the jar holds %d %s cookies for %s, want 1", len(cookies), appsession.DefaultCookie, r.name)
	}
	replay := newBrowser(t, mock)
	replay.Jar.SetCookies(u, cookies)
	return replay
}

// logout ends hc's session with POST /v1/auth/logout on r, as the
// dashboard's own page sends it.
func logout(t *testing.T, hc *http.Client, r *replica) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, r.url()+"/v1/auth/logout", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("logout on %s: %v", r.name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		t.Fatalf("logout on %s: %d %s, want 204", r.name, resp.StatusCode, body)
	}
}

// expectRefused waits up to within for r to answer hc's whoami with 401
// session_revoked (within 0: the first answer must be that).
func expectRefused(t *testing.T, hc *http.Client, r *replica, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		status, body := whoami(t, hc, r)
		var refusal struct {
			Error string `json:"error"`
		}
		if status == http.StatusUnauthorized && json.Unmarshal(body, &refusal) == nil && refusal.Error == "session_revoked" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("whoami on %s: %d %s, want 401 session_revoked within %v", r.name, status, body, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
