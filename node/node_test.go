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
		want    []string
		wantErr bool
	}{
		{[]string{"http://127.0.0.1:12379", "127.0.0.1:22379"}, []string{"127.0.0.1:12379", "127.0.0.1:22379"}, false},
		{[]string{" https://node1:2380/ "}, []string{"node1:2380"}, false},
		{[]string{"[::1]:2380"}, []string{"[::1]:2380"}, false},
		{nil, nil, true},
		{[]string{"127.0.0.1"}, nil, true},
		{[]string{":2380"}, nil, true},
		{[]string{"host:0"}, nil, true},
		{[]string{"host:99999"}, nil, true},
		{[]string{"host:http"}, nil, true},
	}
	for i, tt := range tests {
		got, err := node.ParseCluster(tt.in)
		if (err != nil) != tt.wantErr || fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%d: ParseCluster(%q) = %q, %v; want %q, error %v", i, tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestStartRefusesBadMemberID(t *testing.T) {
	for _, id := range []uint64{0, 2} {
		_, err := node.Start(node.Config{ID: id, Cluster: []string{"127.0.0.1:1"}, DataDir: t.TempDir()})
		if err == nil {
			t.Errorf("member id %d of a one-member cluster was accepted", id)
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
	_, err = node.Start(node.Config{ID: 1, Cluster: []string{l.Addr().String()}, DataDir: dir})
	if err == nil {
		t.Fatal("started on a taken peer port")
	}
	if _, statErr := os.Stat(filepath.Join(dir, "wal")); !os.IsNotExist(statErr) {
		t.Fatalf("a failed start left a WAL behind (%v); error was %v", statErr, err)
	}
}
