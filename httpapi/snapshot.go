package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/raftkv/raftkv/backup"
	"github.com/raftkv/raftkv/messages"
)

// snapshotPath is the route of GET /v1/snapshot.
const snapshotPath = "/v1/snapshot"

// Headers of GET /v1/snapshot, besides HeaderRevision (the backup's store
// revision): the applied index the member took it at, and its number of
// keys.
const (
	HeaderSnapshotIndex = "X-Raftkv-Snapshot-Index"
	HeaderSnapshotKeys  = "X-Raftkv-Snapshot-Keys"
)

// snapshotWriteTimeout bounds each write of a backup's stream to the
// connection: a client that takes nothing for that long is cut off, one
// that keeps reading may take as long as the backup needs (the server's
// WriteTimeout would cut a large one off).
const snapshotWriteTimeout = 30 * time.Second

// snapshotV1 serves GET /v1/snapshot[?timeout=][&consistency=]: a backup of
// the store in package backup's format, streamed. The member takes it
// after a linearizable read round (so it holds every write acknowledged
// before the request), from a point-in-time view of the store that the
// applier hands out without stopping; the view is streamed from this
// goroutine. With ?consistency=serializable it takes it from its own
// state at once, without the round: possibly stale, but available without
// a quorum (the backup to restore from when the quorum is lost for good).
// ?timeout= bounds the wait for the read round, not the stream. A stream
// that breaks off (the client gone, the view unreadable) is aborted, so
// that the client sees a broken connection, never a clean end; the backup
// would have no trailer either.
func (s *Server) snapshotV1(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, r, http.MethodGet)
		return
	}
	p, err := s.parseParams(r, "consistency")
	if err != nil {
		s.failV1(w, err)
		return
	}
	reply, err := s.askBackup(r, p.timeout, p.serializable)
	if err != nil {
		s.failV1(w, err)
		return
	}
	h := backup.Header{
		Revision: reply.Revision, Keys: uint64(reply.Keys), Index: reply.Index, Term: reply.Term,
		ClusterID: reply.ClusterID, Member: reply.Member, Taken: time.Now(),
	}
	setRevision(w, h.Revision)
	w.Header().Set(HeaderSnapshotIndex, strconv.FormatUint(h.Index, 10))
	w.Header().Set(HeaderSnapshotKeys, strconv.FormatUint(h.Keys, 10))
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition",
		fmt.Sprintf(`attachment; filename="raftkv-%016x-%d.snapshot"`, h.ClusterID, h.Revision))
	w.WriteHeader(http.StatusOK)
	dw := &deadlineWriter{w: w, rc: http.NewResponseController(w)}
	if _, _, err := backup.Write(dw, h, reply.WriteStore); err != nil {
		s.log.Warn("backup stream broken off", "revision", h.Revision, "index", h.Index, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// askBackup asks the proposer for a backup, linearizable or serializable:
// a BackupReply, or the error a read gets (in a ReadReply).
func (s *Server) askBackup(r *http.Request, timeout time.Duration, serializable bool) (*messages.BackupReply, error) {
	v, err := s.ask(r.Context(), &messages.ClientBackup{Serializable: serializable}, timeout)
	if err != nil {
		return nil, err
	}
	switch reply := v.(type) {
	case *messages.BackupReply:
		return reply, nil
	case *messages.ReadReply:
		if reply.Err != nil {
			return nil, reply.Err
		}
	}
	return nil, fmt.Errorf("unexpected answer %T to a backup request", v)
}

// deadlineWriter gives each write to the connection snapshotWriteTimeout
// from its start, where the response writer lets it.
type deadlineWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	if err := d.rc.SetWriteDeadline(time.Now().Add(snapshotWriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return 0, fmt.Errorf("set write deadline: %w", err)
	}
	return d.w.Write(p)
}
