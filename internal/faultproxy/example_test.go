package faultproxy_test

import (
	"fmt"
	"io"
	"net"
	"time"

	"github.com/ssokit/ssokit/internal/faultproxy"
)

// Example puts a proxy between a client and a local echo server, cuts the
// client's connection and connects again.
func Example() {
	// A local echo server stands in for PostgreSQL or Redis.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()

	p, err := faultproxy.New(ln.Addr().String())
	if err != nil {
		panic(err)
	}
	defer p.Close()

	say := func(c net.Conn, msg string) {
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, len(msg))
		if _, err := c.Write([]byte(msg)); err != nil {
			fmt.Println("the connection is gone")
			return
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			fmt.Println("the connection is gone")
			return
		}
		fmt.Println("echoed", string(buf))
	}

	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		panic(err)
	}
	say(c, "hello")
	p.Cut()
	say(c, "again")
	c.Close()

	c, err = net.Dial("tcp", p.Addr())
	if err != nil {
		panic(err)
	}
	defer c.Close()
	say(c, "reconnected")
	// Output:
	// echoed hello
	// the connection is gone
	// echoed reconnected
}
