package peer_test

import (
	"testing"

	"github.com/raftkv/raftkv/actors/peer"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/metrics"
	"github.com/raftkv/raftkv/testkit"
	"github.com/raftkv/raftkv/transport"
)

// A link counts, under its member's id, the raft messages it sends, those
// it drops while it is not verified, and the connections lost.
func TestLinkCounts(t *testing.T) {
	m := metrics.New()
	system := testkit.NewSystem(t)
	target, parent := testkit.NewProbe(t, system), testkit.NewProbe(t, system)
	cfg := linkConfig(target.PID())
	cfg.Metrics = m
	link := parentOf(t, system, peer.Props(cfg), parent)
	expectHello(t, target, wantHello(cfg))

	for i := range uint64(3) {
		system.Root.Send(link, app(100+i)) // dropped: not verified
	}
	system.Root.Send(link, &messages.LinkChecked{})
	for i := range uint64(5) {
		system.Root.Send(link, app(i))
	}
	for i := range uint64(5) {
		expectRaft(t, target, app(i))
	}
	system.EventStream.Publish(&transport.Down{Address: target.PID().GetAddress()})
	testkit.ExpectMsg[*messages.Unreachable](parent)

	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, s := range f.GetMetric() {
			if len(s.GetLabel()) == 1 && s.GetLabel()[0].GetName() == "peer" && s.GetLabel()[0].GetValue() == "2" {
				got[f.GetName()] = s.GetCounter().GetValue()
			}
		}
	}
	want := map[string]float64{
		"raftkv_peer_sent_messages_total": 5, "raftkv_peer_send_failures_total": 3, "raftkv_peer_unreachable_total": 1,
	}
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s{peer=\"2\"} = %v, want %v (all: %v)", name, got[name], v, got)
		}
	}
}
