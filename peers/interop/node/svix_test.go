package node_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ssokit/ssokit/internal/testenv"
	"github.com/ssokit/ssokit/mockidp"
)

// TestSvixNodeInterop: the mock Clerk's webhook deliveries verify with the
// svix npm package, and a tampered one does not.
func TestSvixNodeInterop(t *testing.T) {
	t.Parallel()
	node := testenv.LookPath(t, "node", installNode)
	dir := testenv.NodeModules(t)
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	c := srv.Clerk("clerk")
	type captured struct {
		Body    string            `json:"body"`
		Headers map[string]string `json:"headers"`
	}
	var mu sync.Mutex
	var got []captured
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, captured{Body: string(body), Headers: map[string]string{
			"svix-id": r.Header.Get("svix-id"), "svix-timestamp": r.Header.Get("svix-timestamp"), "svix-signature": r.Header.Get("svix-signature")}})
		mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	c.SetWebhooks(hook.URL)
	if _, err := c.MintSessionToken("erin@acme.test", "acme", "member", "http://127.0.0.1:9"); err != nil {
		t.Fatal(err)
	}
	c.Wait()
	mu.Lock()
	deliveries := append([]captured(nil), got...)
	mu.Unlock()
	if len(deliveries) == 0 {
		t.Fatal("no deliveries")
	}
	tampered := deliveries[0]
	tampered.Body = tampered.Body[:len(tampered.Body)-1] + " }"
	in, _ := json.Marshal(map[string]any{"secret": c.WebhookSigningSecret(), "deliveries": append(deliveries, tampered)})
	cmd := exec.Command(node, filepath.Join(dir, "verify-svix.mjs"))
	cmd.Stdin = bytes.NewReader(in)
	out, _ := cmd.Output()
	var results []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("node printed %q", sc.Text())
		}
		results = append(results, r)
	}
	if len(results) != len(deliveries)+1 {
		t.Fatalf("node answered %d results for %d deliveries: %s", len(results), len(deliveries)+1, out)
	}
	for i, r := range results[:len(deliveries)] {
		if r["ok"] != true {
			t.Errorf("delivery %d did not verify with svix: %v", i, r)
		}
	}
	if results[len(results)-1]["ok"] != false {
		t.Error("svix verified a tampered delivery")
	}
}
