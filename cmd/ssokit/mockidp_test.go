package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/mockidp"
)

// startMockIDP runs `ssokit mockidp args...` in-process and returns the
// parsed ready line and a function that stops it and returns the rest of
// stdout and the exit code.
func startMockIDP(t *testing.T, args ...string) (map[string]any, func() (string, int)) {
	t.Helper()
	ready, stop := startCommand(t, append([]string{"mockidp"}, args...)...)
	return ready, func() (string, int) { out, _, code := stop(); return out, code }
}

// startCommand runs `ssokit args...` in-process until its JSON ready line,
// and returns that line parsed and a function that stops the command and
// returns the rest of stdout, all of stderr and the exit code.
func startCommand(t *testing.T, args ...string) (map[string]any, func() (string, string, int)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		code := run(ctx, args, nil, pw, &stderr)
		pw.Close()
		done <- code
	}()
	br := bufio.NewReader(pr)
	lineCh := make(chan string, 1)
	go func() { l, _ := br.ReadString('\n'); lineCh <- l }()
	var line string
	select {
	case line = <-lineCh:
	case <-time.After(20 * time.Second):
		cancel()
		<-done
		t.Fatalf("no ready line; stderr: %s", stderr.String())
	}
	var ready map[string]any
	if err := json.Unmarshal([]byte(line), &ready); err != nil {
		cancel()
		<-done
		t.Fatalf("ready line %q: %v; stderr: %s", line, err, stderr.String())
	}
	return ready, func() (string, string, int) {
		cancel()
		rest, _ := io.ReadAll(br)
		code := <-done
		return string(rest), stderr.String(), code
	}
}

func TestMockIDPCommand(t *testing.T) {
	t.Parallel()
	ready, stop := startMockIDP(t, "--addr", "127.0.0.1:0")
	url, _ := ready["url"].(string)
	if ready["ready"] != true || !strings.HasPrefix(url, "http://127.0.0.1:") || len(ready) != 2 {
		t.Fatalf("ready line %v", ready)
	}
	resp, err := http.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	var l mockidp.Listing
	json.NewDecoder(resp.Body).Decode(&l)
	resp.Body.Close()
	if len(l.Personas) != 5 || l.Personas[0].OIDC.Issuer != url+"/okta/oauth2/default" {
		t.Fatalf("listing %+v", l.Personas)
	}
	rest, code := stop()
	if code != 0 || rest != "" {
		t.Fatalf("exit %d, further stdout %q", code, rest)
	}
}

func TestMockIDPCommandTLSAndConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "idp.json")
	os.WriteFile(cfgFile, []byte(`{"personas":[{"name":"corp","vendor":"okta","users":[{"email":"a@corp.test"}]}]}`), 0o600)
	caFile := filepath.Join(dir, "ca.pem")
	ready, stop := startMockIDP(t, "--addr", "127.0.0.1:0", "--tls", "--config", cfgFile, "--ca-file", caFile, "--admin-token", "tok")
	defer stop()
	if ready["ca_file"] != caFile {
		t.Fatalf("ready %v", ready)
	}
	pemBytes, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("CA file is not PEM")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(ready["url"].(string) + "/corp/oauth2/default/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("discovery over TLS: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("POST", ready["url"].(string)+"/admin/v1/reset", nil)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("admin without the token: %d", resp.StatusCode)
	}
}

func TestMockIDPCommandErrors(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"mockidp", "--print-config"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("print-config exit %d", code)
	}
	if _, err := mockidp.ParseConfig(out.Bytes()); err != nil || !strings.Contains(out.String(), "personas:") {
		t.Fatalf("printed config does not parse: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("personas: [{name: x, vendor: auth0}]"), 0o600)
	errOut.Reset()
	if code := run(context.Background(), []string{"mockidp", "--config", bad}, nil, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "auth0") {
		t.Fatalf("bad config: exit %d, %s", code, errOut.String())
	}
	if code := run(context.Background(), []string{"mockidp", "--addr", "256.0.0.1:0"}, nil, &out, &errOut); code != 1 {
		t.Fatalf("bad address exit %d", code)
	}
}

// TestWriteCA: the CA file is never written through a file or link that
// was already there: by default a new file of a random name, and at a
// given path a new file renamed over whatever was there (a symlink is
// replaced, its target untouched).
func TestWriteCA(t *testing.T) {
	pem := []byte("-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n")
	a, err := writeCA("", pem)
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(a)
	b, err := writeCA("", pem)
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(b)
	if a == b || !strings.HasPrefix(filepath.Base(a), "ssokit-mockidp-ca-") {
		t.Fatalf("default paths %q and %q", a, b)
	}
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("private"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "ca.pem")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	if _, err := writeCA(link, pem); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "private" {
		t.Fatalf("the link's target was written: %q", got)
	}
	if fi, err := os.Lstat(link); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("the CA path is not a regular file: %v %v", fi, err)
	}
	if got, _ := os.ReadFile(link); string(got) != string(pem) {
		t.Fatalf("the CA file holds %q", got)
	}
}
