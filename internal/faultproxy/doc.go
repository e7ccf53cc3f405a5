// Package faultproxy is a TCP proxy for tests that simulates outages and
// slow links between code and a server it talks to (PostgreSQL, Redis)
// without stopping the server: the code under test dials the proxy's Addr
// instead of the server, and the test cuts its connections (Cut), refuses
// new ones (Refuse) or delays what it forwards (Slow).
//
//	p, err := faultproxy.New("127.0.0.1:6379")
//	...
//	defer p.Close()
//	client := connect(p.Addr())
//	p.Cut() // every open connection drops; the next ones work
//
// A Proxy listens on 127.0.0.1 only. Close stops every goroutine it
// started before it returns.
package faultproxy
