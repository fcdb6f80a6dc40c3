package applier

import (
	"io"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/store"
)

// serveBackup answers a backup read (an Op of type messages.OpBackup) with
// the store at the applied index: a point-in-time view, taken in O(1),
// which the asker streams on its own goroutine while the applier goes on.
// serve calls it once the applied index reaches the read's index, so the
// view holds every write acknowledged before the read was asked.
func (a *applier) serveBackup(ctx actor.Context, r messages.Read) {
	v := a.store.View()
	ctx.Send(r.ReplyTo, &messages.BackupReply{
		Index: a.applied, Term: a.appliedTerm, Revision: v.Revision(), Keys: v.Len(),
		ClusterID: a.membership.ClusterID, Member: a.cfg.ID,
		WriteStore: func(w io.Writer) (int64, error) { return store.WriteSnapshot(w, v) },
	})
}
