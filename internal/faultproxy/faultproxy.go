package faultproxy

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// dialTimeout bounds the connection to the target made for each accepted
// connection.
const dialTimeout = 5 * time.Second

// Proxy forwards each connection accepted on Addr to its target, and
// injects faults on command. Its methods are safe for concurrent use.
type Proxy struct {
	target string
	ln     net.Listener
	ctx    context.Context // canceled by Close: ends dials and delays
	cancel context.CancelFunc
	slow   atomic.Int64 // delay per forwarded chunk, in nanoseconds
	wg     sync.WaitGroup

	mu     sync.Mutex
	conns  map[*link]struct{}
	refuse bool
	closed bool
}

// link is one proxied connection: the accepted client side and, once
// dialed, the target side. Closing it closes both.
type link struct {
	mu     sync.Mutex
	closed bool
	done   chan struct{} // closed with the link: ends a pending delay
	conns  []net.Conn
}

// attach adds c to l, or closes c and reports false when l is closed.
func (l *link) attach(c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		_ = c.Close()
		return false
	}
	l.conns = append(l.conns, c)
	return true
}

// close closes every connection of l; later calls do nothing.
func (l *link) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.closed = true
	close(l.done)
	for _, c := range l.conns {
		_ = c.Close()
	}
}

// New starts a proxy listening on 127.0.0.1 at a free port that forwards
// every connection to target (host:port). The target is dialed for each
// accepted connection, so it need not be up yet.
func New(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{target: target, ln: ln, ctx: ctx, cancel: cancel, conns: map[*link]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the host:port clients dial instead of the target.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Cut closes every open connection, both the client's and the target's
// side. The proxy keeps accepting: connections made after Cut work
// (unless Refuse is on).
func (p *Proxy) Cut() {
	p.mu.Lock()
	links := make([]*link, 0, len(p.conns))
	for l := range p.conns {
		links = append(links, l)
	}
	p.mu.Unlock()
	for _, l := range links {
		l.close()
	}
}

// Refuse turns refusal on or off. While it is on, every open connection is
// cut and each new one is closed as soon as it is accepted, as if the
// server were down; turning it off lets new connections through again.
func (p *Proxy) Refuse(on bool) {
	p.mu.Lock()
	p.refuse = on
	p.mu.Unlock()
	if on {
		p.Cut()
	}
}

// Slow delays every chunk of data forwarded in either direction by d
// before it is written on, on open and new connections alike. Zero (or a
// negative d) turns the delay off.
func (p *Proxy) Slow(d time.Duration) {
	p.slow.Store(int64(max(d, 0)))
}

// Close stops accepting, closes every connection and returns once every
// goroutine the proxy started has ended. Later calls do nothing.
func (p *Proxy) Close() {
	p.mu.Lock()
	already := p.closed
	p.closed = true
	p.mu.Unlock()
	if already {
		return
	}
	p.cancel()
	_ = p.ln.Close()
	p.Cut()
	p.wg.Wait()
}

// accept runs until the listener closes.
func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			select { // a transient error (too many open files): retry shortly
			case <-p.ctx.Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		l := &link{done: make(chan struct{}), conns: []net.Conn{c}}
		p.mu.Lock()
		if p.refuse || p.closed {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.conns[l] = struct{}{}
		p.wg.Add(1)
		p.mu.Unlock()
		go p.serve(l, c)
	}
}

// serve dials the target for client and copies both ways until either side
// closes or the link is cut.
func (p *Proxy) serve(l *link, client net.Conn) {
	defer p.wg.Done()
	defer func() {
		l.close()
		p.mu.Lock()
		delete(p.conns, l)
		p.mu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(p.ctx, dialTimeout)
	var d net.Dialer
	up, err := d.DialContext(ctx, "tcp", p.target)
	cancel()
	if err != nil || !l.attach(up) {
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.copy(l, up, client)
	}()
	p.copy(l, client, up)
}

// copy forwards src to dst, each chunk after the current delay, and closes
// the link when either side fails or closes.
func (p *Proxy) copy(l *link, dst, src net.Conn) {
	defer l.close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if d := time.Duration(p.slow.Load()); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-t.C:
				case <-l.done:
					t.Stop()
					return
				}
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
