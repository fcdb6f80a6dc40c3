package node

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/raftkv/raftkv/membership"
)

// ParseCluster reads a --cluster list. Each entry is a peer address
// (host:port, an http:// or https:// prefix and a trailing slash are
// accepted); either every entry is a bare address, and member i+1 is at
// entry i (raftexample's form), or every entry is id=address (etcd's
// --initial-cluster form). It returns the addresses by member id.
func ParseCluster(entries []string) (map[uint64]string, error) {
	if len(entries) == 0 || (len(entries) == 1 && strings.TrimSpace(entries[0]) == "") {
		return nil, errors.New("cluster: no member addresses")
	}
	out := make(map[uint64]string, len(entries))
	used := map[string]uint64{}
	named := strings.Contains(entries[0], "=")
	for i, e := range entries {
		id, addr := uint64(i+1), e
		if idText, rest, ok := strings.Cut(e, "="); ok != named {
			return nil, fmt.Errorf("cluster entry %d (%q): give every entry as id=address, or none", i+1, e)
		} else if ok {
			var err error
			if id, err = strconv.ParseUint(strings.TrimSpace(idText), 10, 64); err != nil {
				return nil, fmt.Errorf("cluster entry %d (%q): member id %q is not a number", i+1, e, idText)
			}
			addr = rest
		}
		if err := membership.CheckID(id); err != nil {
			return nil, fmt.Errorf("cluster entry %d: %w", i+1, err)
		}
		a, err := membership.ParsePeerAddress(addr)
		if err != nil {
			return nil, fmt.Errorf("cluster entry %d: %w", i+1, err)
		}
		if _, dup := out[id]; dup {
			return nil, fmt.Errorf("cluster entry %d: member %d is listed twice", i+1, id)
		}
		if other, dup := used[a]; dup {
			return nil, fmt.Errorf("cluster entry %d: members %d and %d have the same address %s", i+1, other, id, a)
		}
		out[id], used[a] = a, id
	}
	return out, nil
}

// listenAddress is where a member listens for peers by default: every
// interface, at the port of the address it advertises.
func listenAddress(advertised string) (string, error) {
	_, port, err := net.SplitHostPort(advertised)
	if err != nil {
		return "", fmt.Errorf("peer address %q: %w", advertised, err)
	}
	return net.JoinHostPort("", port), nil
}
