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
// http:// or https:// prefix and a trailing slash, and returns it as
// host:port.
func ParsePeerAddress(s string) (string, error) {
	e := strings.TrimSpace(s)
	e = strings.TrimPrefix(strings.TrimPrefix(e, "http://"), "https://")
	e = strings.TrimSuffix(e, "/")
	if err := checkHostPort(e); err != nil {
		return "", fmt.Errorf("peer address %q: %w", s, err)
	}
	return e, nil
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
	if err := checkHostPort(u.Host); err != nil {
		return "", fmt.Errorf("client address %q: %w", s, err)
	}
	return u.Scheme + "://" + u.Host, nil
}

func checkHostPort(hp string) error {
	host, port, err := net.SplitHostPort(hp)
	if err != nil || host == "" {
		return fmt.Errorf("not host:port")
	}
	if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
		return fmt.Errorf("no valid port")
	}
	return nil
}
