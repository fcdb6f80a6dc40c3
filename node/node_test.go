package node_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/raftkv/raftkv/node"
)

func TestParseCluster(t *testing.T) {
	tests := []struct {
		in      []string
		want    map[uint64]string
		wantErr bool
	}{
		{[]string{"http://127.0.0.1:12379", "127.0.0.1:22379"}, map[uint64]string{1: "127.0.0.1:12379", 2: "127.0.0.1:22379"}, false},
		{[]string{" https://node1:2380/ "}, map[uint64]string{1: "node1:2380"}, false},
		{[]string{"[::1]:2380"}, map[uint64]string{1: "[::1]:2380"}, false},
		{[]string{"4=http://node4:2380", "1=node1:2380"}, map[uint64]string{4: "node4:2380", 1: "node1:2380"}, false},
		{nil, nil, true},
		{[]string{""}, nil, true},
		{[]string{"127.0.0.1"}, nil, true},
		{[]string{":2380"}, nil, true},
		{[]string{"host:0"}, nil, true},
		{[]string{"host:99999"}, nil, true},
		{[]string{"host:http"}, nil, true},
		{[]string{"1=a:1", "b:2"}, nil, true},             // mixed forms
		{[]string{"a:1", "2=b:2"}, nil, true},             // mixed forms
		{[]string{"1=a:1", "1=b:2"}, nil, true},           // id twice
		{[]string{"1=a:1", "2=a:1"}, nil, true},           // address twice
		{[]string{"a:1", "http://a:1/"}, nil, true},       // address twice, spelt two ways
		{[]string{"0=a:1"}, nil, true},                    // no such id
		{[]string{"18446744073709551615=a:1"}, nil, true}, // no such id
		{[]string{"x=a:1"}, nil, true},                    // not a number
	}
	for i, tt := range tests {
		got, err := node.ParseCluster(tt.in)
		if (err != nil) != tt.wantErr || fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%d: ParseCluster(%q) = %v, %v; want %v, error %v", i, tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestStartRefusesBadMemberID(t *testing.T) {
	tests := []struct {
		id      uint64
		cluster map[uint64]string
		join    bool
	}{
		{0, map[uint64]string{1: "127.0.0.1:1"}, false},
		{2, map[uint64]string{1: "127.0.0.1:1"}, false},             // not in the cluster, no address
		{1 << 60, map[uint64]string{1 << 60: "127.0.0.1:1"}, false}, // beyond MaxID
		{2, map[uint64]string{1: "127.0.0.1:1"}, true},              // joining without an address
	}
	for i, tt := range tests {
		n, err := node.Start(node.Config{ID: tt.id, Cluster: tt.cluster, Join: tt.join, DataDir: t.TempDir()})
		if err == nil {
			n.Stop()
			t.Errorf("%d: member %d of %v (join %v) was accepted", i, tt.id, tt.cluster, tt.join)
		}
	}
}

// A node that cannot listen for peers fails before it creates its WAL: the
// next start must still bootstrap a new cluster.
func TestStartFailsBeforeCreatingWALWhenPeerPortIsTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dir := filepath.Join(t.TempDir(), "data")
	_, err = node.Start(node.Config{ID: 1, Cluster: map[uint64]string{1: l.Addr().String()}, ListenPeer: l.Addr().String(), DataDir: dir})
	if err == nil {
		t.Fatal("started on a taken peer port")
	}
	if _, statErr := os.Stat(filepath.Join(dir, "wal")); !os.IsNotExist(statErr) {
		t.Fatalf("a failed start left a WAL behind (%v); error was %v", statErr, err)
	}
}
