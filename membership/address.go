package membership

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// MaxID is the largest member id: 2^53-1, the largest integer a JSON number
// carries exactly, so that every client reads member ids right.
const MaxID = 1<<53 - 1

// CheckID refuses a member id that no member can have.
func CheckID(id uint64) error {
	if id == 0 || id > MaxID {
		return fmt.Errorf("member id %d: must be between 1 and %d", id, uint64(MaxID))
	}
	return nil
}

// ParsePeerAddress reads a peer address: host:port, with or without an
// http:// or https:// prefix and a trailing slash, and returns it in its
// canonical form host:port (the port without leading zeros), so that one
// address has one spelling.
func ParsePeerAddress(s string) (string, error) {
	e := strings.TrimSpace(s)
	e = strings.TrimPrefix(strings.TrimPrefix(e, "http://"), "https://")
	e = strings.TrimSuffix(e, "/")
	hp, err := canonicalHostPort(e)
	if err != nil {
		return "", fmt.Errorf("peer address %q: %w", s, err)
	}
	return hp, nil
}

// ParseClientAddress reads a client (HTTP API) address: a URL such as
// http://host:port, or host:port for http. It returns it as a URL with no
// path.
func ParseClientAddress(s string) (string, error) {
	e := strings.TrimSpace(s)
	if !strings.Contains(e, "://") {
		e = "http://" + e
	}
	u, err := url.Parse(e)
	if err != nil {
		return "", fmt.Errorf("client address %q: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("client address %q: scheme must be http or https", s)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("client address %q: want scheme://host:port and nothing else", s)
	}
	hp, err := canonicalHostPort(u.Host)
	if err != nil {
		return "", fmt.Errorf("client address %q: %w", s, err)
	}
	return u.Scheme + "://" + hp, nil
}

// canonicalHostPort checks host:port and returns it with the port in
// decimal without leading zeros. A host is a name (letters, digits, '.',
// '-', '_') or an IP address (IPv6 in brackets).
func canonicalHostPort(hp string) (string, error) {
	host, port, err := net.SplitHostPort(hp)
	if err != nil || host == "" {
		return "", fmt.Errorf("not host:port")
	}
	if net.ParseIP(host) == nil && !validHostName(host) {
		return "", fmt.Errorf("host %q is neither a host name nor an IP address", host)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p <= 0 || p > 65535 || strings.TrimLeft(port, "0123456789") != "" {
		return "", fmt.Errorf("port %q is not a number from 1 to 65535", port)
	}
	return net.JoinHostPort(host, strconv.Itoa(p)), nil
}

func validHostName(h string) bool {
	for _, r := range h {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_'
		if !ok {
			return false
		}
	}
	return h != ""
}
