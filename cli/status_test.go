package cli

import (
	"reflect"
	"testing"

	"github.com/raftkv/raftkv/api"
)

func TestStatusTable(t *testing.T) {
	now := &api.StatusReply{ID: 1, Name: "db-1", Version: "v1.2.0", Leader: 1, State: "leader", Term: 3, Commit: 40, Applied: 39,
		Serving: true, Revision: 17, Keys: 12, DataSizeBytes: 64 << 20, Alarms: []api.Alarm{{Member: 2, Alarm: api.AlarmNoSpace}}}
	// A member of an older release tells no name, version, keys or size.
	older := &api.StatusReply{ID: 2, State: "candidate", Term: 4, Commit: 38, Applied: 38, Revision: 16}
	rows := []endpointStatus{
		{Endpoint: "http://a:1", StatusReply: now},
		{Endpoint: "http://b:1", StatusReply: older},
		{Endpoint: "http://c:1", Error: "connection refused"},
	}
	want := [][]string{
		{"ENDPOINT", "ID", "NAME", "VERSION", "STATE", "LEADER", "TERM", "COMMIT", "APPLIED", "REVISION", "KEYS", "DATA SIZE", "SERVING", "ALARMS"},
		{"http://a:1", "1", "db-1", "v1.2.0", "leader", "1", "3", "40", "39", "17", "12", "64.0 MiB", "yes", "NOSPACE(member 2)"},
		{"http://b:1", "2", "-", "-", "candidate", "none", "4", "38", "38", "16", "0", "0 B", "no", "-"},
		{"http://c:1", "error: connection refused"},
	}
	if got := statusTable(rows); !reflect.DeepEqual(got, want) {
		t.Errorf("statusTable:\n got %q\nwant %q", got, want)
	}
	// Columns no member fills are left out.
	want = [][]string{
		{"ENDPOINT", "ID", "STATE", "LEADER", "TERM", "COMMIT", "APPLIED", "REVISION", "SERVING", "ALARMS"},
		{"http://b:1", "2", "candidate", "none", "4", "38", "38", "16", "no", "-"},
	}
	if got := statusTable(rows[1:2]); !reflect.DeepEqual(got, want) {
		t.Errorf("statusTable of an older member:\n got %q\nwant %q", got, want)
	}
}

func TestByteSize(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 64 << 20: "64.0 MiB", 3 << 30: "3.0 GiB", 5 << 40: "5.0 TiB", 2048 << 40: "2.0 PiB",
	} {
		if got := byteSize(n); got != want {
			t.Errorf("byteSize(%d) = %q, want %q", n, got, want)
		}
	}
}
