package middleware

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// maxForwardedHops bounds how many trusted proxies ClientIP walks through.
const maxForwardedHops = 32

// ClientIP is the address of the client that made r, for per-address
// limits. Without trusted proxies it is the peer of the connection
// (r.RemoteAddr) alone, whatever X-Forwarded-For says. When the peer is in
// trusted, X-Forwarded-For (all its headers, in order) is read from the
// right, skipping entries that are themselves trusted proxies: the first
// entry that is not is the client. Entries to its left were written by the
// client and are never read. An entry that is not an IP address (garbage,
// an "unknown", a port where none belongs) stops the walk at the last
// trusted hop, which is then the answer, so a client cannot choose its key
// by writing junk; so does a header with only trusted entries or none,
// or more than 32 trusted hops. Zones are dropped and IPv4-mapped IPv6
// addresses unmapped. A RemoteAddr that is not an address is returned as
// it is.
func ClientIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr // no port: a test or an in-process transport
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return r.RemoteAddr
	}
	peer = peer.WithZone("").Unmap()
	if !isTrusted(peer, trusted) {
		return peer.String()
	}
	last := peer
	xff := strings.Join(r.Header.Values("X-Forwarded-For"), ",")
	for hops := 0; hops < maxForwardedHops && xff != ""; hops++ {
		var entry string
		if i := strings.LastIndexByte(xff, ','); i >= 0 {
			xff, entry = xff[:i], xff[i+1:]
		} else {
			xff, entry = "", xff
		}
		a, err := netip.ParseAddr(strings.TrimSpace(entry))
		if err != nil {
			return last.String()
		}
		a = a.WithZone("").Unmap()
		if !isTrusted(a, trusted) {
			return a.String()
		}
		last = a
	}
	return last.String()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
