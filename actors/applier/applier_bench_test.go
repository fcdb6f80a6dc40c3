package applier_test

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
	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/store"
	"github.com/raftkv/raftkv/testkit"
)

// BenchmarkApplyBatch sends the applier batches of committed entries, as
// raftnode does after each Ready, and waits for each Applied: every entry
// a PUT of a 100-byte value (over 100k keys) proposed by this member, so
// the applier decodes it, checks its request id, applies it to the store
// and sends its result to the proposer (here an actor that drops it).
// entries/s is the apply throughput of one member.
//
//	go test -run '^$' -bench ApplyBatch -benchmem ./actors/applier
func BenchmarkApplyBatch(b *testing.B) {
	for _, batch := range []int{1, 16, 128} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
			system := testkit.NewSystem(b, actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return quiet }))
			drop := testkit.Spawn(b, system, actor.PropsFromFunc(func(actor.Context) {}))
			pid := testkit.Spawn(b, system, applier.Props(applier.Config{
				ID: 1, Store: store.New(), Proposer: drop, Snapshotter: drop, StoreDir: b.TempDir(),
				SnapshotCount: 1 << 62, // no snapshot in the measure
				Logger:        quiet,
			}))
			raftnode := testkit.NewProbe(b, system)
			value := bytes.Repeat([]byte{'v'}, 100)
			var index uint64
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
				msg := &messages.Apply{Seq: uint64(i + 1), Entries: es}
				b.StartTimer()
				if got := testkit.Request[*messages.Applied](raftnode, pid, msg); got.Index != index {
					b.Fatalf("Applied index %d, want %d", got.Index, index)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(index)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}
