package persister_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/asynkron/protoactor-go/actor"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/raftkv/raftkv/actors/applier"
	"github.com/raftkv/raftkv/actors/persister"
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/store"
	"github.com/raftkv/raftkv/testkit"
)

// BenchmarkReadyRound takes Ready rounds of a single member as raftnode
// does: the new entries and hard state appended to a real WAL and fsynced
// by the persister, then, once Persisted, the same entries (committed at
// once, as a single voter commits them) applied by the applier, until
// Applied. Each entry is a PUT of a 100-byte value proposed by this member
// (its result goes to an actor that drops it). entries/s is what one
// member's disk and apply path can take at that Ready size, without raft
// and network.
//
//	go test -run '^$' -bench ReadyRound -benchmem ./actors/persister
func BenchmarkReadyRound(b *testing.B) {
	for _, batch := range []int{1, 16, 128} {
		b.Run(fmt.Sprintf("entries=%d", batch), func(b *testing.B) {
			quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
			d, _, err := persister.Open(b.TempDir(), quiet)
			if err != nil {
				b.Fatal(err)
			}
			system := testkit.NewSystem(b, actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return quiet }))
			drop := testkit.Spawn(b, system, actor.PropsFromFunc(func(actor.Context) {}))
			disk := testkit.Spawn(b, system, persister.Props(d))
			apply := testkit.Spawn(b, system, applier.Props(applier.Config{
				ID: 1, Store: store.New(), Proposer: drop, Snapshotter: drop, StoreDir: b.TempDir(),
				SnapshotCount: 1 << 62, // no snapshot in the measure
				Logger:        quiet,
			}))
			raftnode := testkit.NewProbe(b, system)
			b.Cleanup(func() { system.Root.StopFuture(disk).Wait() }) // closes the WAL before its dir goes
			value := bytes.Repeat([]byte{'v'}, 100)
			var index uint64
			b.SetBytes(int64(batch * len(value)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				es := make([]*raftpb.Entry, batch)
				for j := range es {
					index++
					data, err := messages.EncodeCommand(messages.Command{
						ID:  messages.RequestID{Node: 1, Seq: index},
						Txn: messages.Txn{Success: []messages.Op{{Type: messages.OpPut, Key: fmt.Appendf(nil, "key/%08d", index%100_000), Value: value}}},
					})
					if err != nil {
						b.Fatal(err)
					}
					es[j] = &raftpb.Entry{Term: proto.Uint64(1), Index: proto.Uint64(index), Type: raftpb.EntryType_EntryNormal.Enum(), Data: data}
				}
				hard := &raftpb.HardState{Term: proto.Uint64(1), Vote: proto.Uint64(1), Commit: proto.Uint64(index)}
				seq := uint64(i + 1)
				b.StartTimer()
				if got := testkit.Request[*messages.Persisted](raftnode, disk, &messages.Persist{Seq: seq, HardState: hard, Entries: es}); got.Seq != seq {
					b.Fatalf("Persisted %d, want %d", got.Seq, seq)
				}
				if got := testkit.Request[*messages.Applied](raftnode, apply, &messages.Apply{Seq: seq, Entries: es}); got.Index != index {
					b.Fatalf("Applied index %d, want %d", got.Index, index)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(index)/b.Elapsed().Seconds(), "entries/s")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "readies/s")
		})
	}
}
