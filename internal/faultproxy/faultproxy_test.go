package faultproxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// echo is a local TCP echo server that counts the connections it holds.
type echo struct {
	ln       net.Listener
	wg       sync.WaitGroup
	accepted atomic.Int64
	mu       sync.Mutex
	conns    map[net.Conn]struct{}
}

func startEcho(t *testing.T) *echo {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &echo{ln: ln, conns: map[net.Conn]struct{}{}}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			e.accepted.Add(1)
			e.mu.Lock()
			e.conns[c] = struct{}{}
			e.mu.Unlock()
			e.wg.Add(1)
			go func() {
				defer e.wg.Done()
				_, _ = io.Copy(c, c)
				_ = c.Close()
				e.mu.Lock()
				delete(e.conns, c)
				e.mu.Unlock()
			}()
		}
	}()
	t.Cleanup(e.close)
	return e
}

func (e *echo) addr() string { return e.ln.Addr().String() }

// active is how many connections the server holds open.
func (e *echo) active() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.conns)
}

// dropAll closes every connection from the server's side.
func (e *echo) dropAll() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for c := range e.conns {
		_ = c.Close()
	}
}

func (e *echo) close() {
	_ = e.ln.Close()
	e.dropAll()
	e.wg.Wait()
}

func newProxy(t *testing.T, target string) *Proxy {
	t.Helper()
	p, err := New(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeWithin(t, p, 5*time.Second) })
	return p
}

// closeWithin closes p and fails t when Close does not return within d
// (a goroutine of the proxy that does not end).
func closeWithin(t *testing.T, p *Proxy, d time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		p.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
		buf := make([]byte, 1<<20)
		t.Errorf("Close did not return within %v:\n%s", d, buf[:runtime.Stack(buf, true)])
	}
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// roundTrip writes msg on c and reads it back.
func roundTrip(c net.Conn, msg string) error {
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return err
	}
	if _, err := c.Write([]byte(msg)); err != nil {
		return err
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil {
		return err
	}
	if string(buf) != msg {
		return errors.New("echoed " + string(buf))
	}
	return nil
}

// assertClosed checks that c was closed by the other side: a read ends
// with an error that is not a timeout.
func assertClosed(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	_, err := c.Read(make([]byte, 1))
	if err == nil {
		t.Fatal("read data from a connection that should be closed")
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("the connection is still open")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestForward(t *testing.T) {
	e := startEcho(t)
	p := newProxy(t, e.addr())
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Go(func() {
			c, err := net.Dial("tcp", p.Addr())
			if err != nil {
				t.Error(err)
				return
			}
			defer func() { _ = c.Close() }()
			for j := range 3 {
				if err := roundTrip(c, string(rune('a'+i))+string(rune('0'+j))); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	// A large payload crosses in several chunks, intact.
	c := dial(t, p.Addr())
	big := bytes.Repeat([]byte("0123456789abcdef"), 64<<10)
	go func() { _, _ = c.Write(big) }()
	got := make([]byte, len(big))
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("1 MiB through the proxy: %v", err)
	}
	if e.accepted.Load() != 6 {
		t.Errorf("the server accepted %d connections, want 6", e.accepted.Load())
	}
}

func TestCutClosesBothSidesAndKeepsAccepting(t *testing.T) {
	e := startEcho(t)
	p := newProxy(t, e.addr())
	var live []net.Conn
	for range 3 {
		c := dial(t, p.Addr())
		if err := roundTrip(c, "before"); err != nil {
			t.Fatal(err)
		}
		live = append(live, c)
	}
	p.Cut()
	for _, c := range live {
		assertClosed(t, c)
	}
	waitFor(t, "the server's side of the cut connections to close", func() bool { return e.active() == 0 })
	c := dial(t, p.Addr())
	if err := roundTrip(c, "after"); err != nil {
		t.Fatalf("a connection after Cut: %v", err)
	}
}

func TestEitherSideClosing(t *testing.T) {
	e := startEcho(t)
	p := newProxy(t, e.addr())
	// The client closes: the proxy closes the server's side.
	c := dial(t, p.Addr())
	if err := roundTrip(c, "x"); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	waitFor(t, "the server's side to close after the client's", func() bool { return e.active() == 0 })
	// The server closes: the client sees it.
	c = dial(t, p.Addr())
	if err := roundTrip(c, "y"); err != nil {
		t.Fatal(err)
	}
	e.dropAll()
	assertClosed(t, c)
	waitFor(t, "the proxy to forget both connections", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.conns) == 0
	})
}

func TestRefuse(t *testing.T) {
	e := startEcho(t)
	p := newProxy(t, e.addr())
	old := dial(t, p.Addr())
	if err := roundTrip(old, "before"); err != nil {
		t.Fatal(err)
	}
	p.Refuse(true)
	assertClosed(t, old)
	before := e.accepted.Load()
	for range 3 {
		c, err := net.DialTimeout("tcp", p.Addr(), 2*time.Second)
		if err != nil {
			continue // refused outright is refused too
		}
		if err := roundTrip(c, "during"); err == nil {
			t.Error("a connection made while refusing worked")
		}
		assertClosed(t, c)
		_ = c.Close()
	}
	if n := e.accepted.Load() - before; n != 0 {
		t.Errorf("%d connections reached the server while refusing", n)
	}
	p.Refuse(false)
	c := dial(t, p.Addr())
	if err := roundTrip(c, "after"); err != nil {
		t.Fatalf("after Refuse(false): %v", err)
	}
}

func TestSlow(t *testing.T) {
	e := startEcho(t)
	p := newProxy(t, e.addr())
	c := dial(t, p.Addr())
	if err := roundTrip(c, "warm"); err != nil {
		t.Fatal(err)
	}
	const d = 150 * time.Millisecond
	p.Slow(d) // applies to an open connection
	began := time.Now()
	if err := roundTrip(c, "slow"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took < d {
		t.Errorf("a round trip took %v with Slow(%v)", took, d)
	}
	c2 := dial(t, p.Addr()) // and to a new one
	began = time.Now()
	if err := roundTrip(c2, "slow too"); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took < d {
		t.Errorf("a new connection's round trip took %v with Slow(%v)", took, d)
	}
	p.Slow(0)
	if err := roundTrip(c, "fast"); err != nil {
		t.Fatal(err)
	}
}

func TestCutEndsAPendingDelay(t *testing.T) {
	e := startEcho(t)
	p := newProxy(t, e.addr())
	c := dial(t, p.Addr())
	p.Slow(time.Hour)
	if _, err := c.Write([]byte("held")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the chunk is now held by the delay
	began := time.Now()
	p.Cut()
	assertClosed(t, c)
	if took := time.Since(began); took > 2*time.Second {
		t.Errorf("Cut waited %v for a delayed chunk", took)
	}
}

func TestTargetDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	p := newProxy(t, addr)
	c := dial(t, p.Addr())
	assertClosed(t, c)
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	e := startEcho(t)
	before := runtime.NumGoroutine()
	p, err := New(e.addr())
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	for range 4 {
		c := dial(t, p.Addr())
		if err := roundTrip(c, "hi"); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	p.Slow(time.Hour)
	_, _ = conns[0].Write([]byte("held in a delay"))
	time.Sleep(20 * time.Millisecond)
	if n := runtime.NumGoroutine(); n < before+9 {
		t.Fatalf("%d goroutines with 4 proxied connections, %d before: the count does not see the proxy", n, before)
	}
	closeWithin(t, p, 2*time.Second)
	for _, c := range conns {
		assertClosed(t, c)
	}
	if c, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		_ = c.Close()
		t.Error("the proxy accepts after Close")
	}
	p.Close() // a second Close does nothing
	// The echo server's goroutines for the cut connections end too; wait
	// for the count to settle back.
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
