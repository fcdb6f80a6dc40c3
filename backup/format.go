package backup

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"time"

	"github.com/raftkv/raftkv/messages"
	"github.com/raftkv/raftkv/store"
)

// The fixed parts of the format (see the package doc).
const (
	// Magic begins every backup.
	Magic = "RAFTKVBK"
	// TrailerMagic begins the trailer, after the store stream.
	TrailerMagic = "RAFTKVND"
	// FormatVersion is the version of the format that Write writes and
	// Read reads; Read refuses any other with an error wrapping
	// messages.ErrVersion.
	FormatVersion = 1
	// HeaderSize and TrailerSize are the sizes, in bytes, of the header and
	// of the trailer.
	HeaderSize  = 68
	TrailerSize = 48
)

// Errors of Read, wrapped with what was found where.
var (
	// ErrNotBackup means the input does not begin with Magic: it is not a
	// raftkv backup at all (an HTML error page, another file).
	ErrNotBackup = errors.New("raftkv: not a raftkv backup")
	// ErrCorrupt means the input is a backup that is truncated or
	// damaged: its checksum, trailer or content does not check out.
	ErrCorrupt = errors.New("raftkv: backup is truncated or damaged")
)

// Header describes a backup: the state of the store it holds, and where
// and when it was taken.
type Header struct {
	// Revision is the store revision of the backup, Keys the number of
	// keys it holds.
	Revision int64
	Keys     uint64
	// Index and Term are the applied index, and its term, of the member
	// that served the backup, when it took it; ClusterID is that member's
	// cluster, Member its id.
	Index     uint64
	Term      uint64
	ClusterID uint64
	Member    uint64
	// Taken is when the member took it (to the nanosecond).
	Taken time.Time
	// Checksum is the SHA-256 the trailer carries: of every byte of the
	// backup before it. Write and Read fill it in.
	Checksum [sha256.Size]byte
}

// Write writes a backup to w: the header of h (its Checksum ignored), the
// store's snapshot stream as writeStore writes it (store.WriteSnapshot, or
// messages.BackupReply.WriteStore), then the trailer. It returns the
// number of bytes written and the checksum. Write holds one part of the
// stream in memory at a time; w sees the store stream as writeStore writes
// it. When Write fails, what w got is not a backup that Read accepts: it
// has no trailer.
func Write(w io.Writer, h Header, writeStore func(io.Writer) (int64, error)) (written int64, sum [sha256.Size]byte, err error) {
	sw := &summingWriter{w: w, h: sha256.New()}
	if _, err := sw.Write(h.encode()); err != nil {
		return sw.n, sum, fmt.Errorf("write backup header: %w", err)
	}
	n, err := writeStore(sw)
	if err != nil {
		return sw.n, sum, fmt.Errorf("write backup store stream: %w", err)
	}
	if n != sw.n-HeaderSize {
		return sw.n, sum, fmt.Errorf("write backup store stream: %d bytes said written, %d were", n, sw.n-HeaderSize)
	}
	trailer := binary.BigEndian.AppendUint64([]byte(TrailerMagic), uint64(n))
	if _, err := sw.Write(trailer); err != nil {
		return sw.n, sum, fmt.Errorf("write backup trailer: %w", err)
	}
	sw.h.Sum(sum[:0])
	m, err := w.Write(sum[:])
	if err == nil && m != len(sum) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return sw.n + int64(m), sum, fmt.Errorf("write backup checksum: %w", err)
	}
	return sw.n + int64(m), sum, nil
}

// encode is the header's bytes.
func (h *Header) encode() []byte {
	b := make([]byte, 0, HeaderSize)
	b = append(b, Magic...)
	b = binary.BigEndian.AppendUint32(b, FormatVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(h.Revision))
	b = binary.BigEndian.AppendUint64(b, h.Keys)
	b = binary.BigEndian.AppendUint64(b, h.Index)
	b = binary.BigEndian.AppendUint64(b, h.Term)
	b = binary.BigEndian.AppendUint64(b, h.ClusterID)
	b = binary.BigEndian.AppendUint64(b, h.Member)
	var taken int64
	if !h.Taken.IsZero() {
		taken = h.Taken.UnixNano()
	}
	return binary.BigEndian.AppendUint64(b, uint64(taken))
}

// decodeHeader reads a header that encode wrote; magic and version are
// checked already.
func decodeHeader(b []byte) Header {
	u := func(off int) uint64 { return binary.BigEndian.Uint64(b[off:]) }
	h := Header{Revision: int64(u(12)), Keys: u(20), Index: u(28), Term: u(36), ClusterID: u(44), Member: u(52)}
	if taken := int64(u(60)); taken != 0 {
		h.Taken = time.Unix(0, taken).UTC()
	}
	return h
}

// summingWriter passes what it is given to w, and counts and hashes it.
type summingWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (s *summingWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	s.h.Write(p[:n])
	s.n += int64(n)
	if err == nil && n != len(p) {
		err = io.ErrShortWrite
	}
	return n, err
}

// Read reads a whole backup from r and verifies it: its magic and format
// version, the store stream (which must read as store.ReadSnapshot reads a
// snapshot's store file), the trailer, the checksum of every byte, and that
// the header describes the store. It returns the header, with the
// checksum, and the store the backup holds. It reads r to its end and
// refuses anything after the trailer.
//
// Read never panics. Its errors say what was found where: an error
// wrapping ErrNotBackup for an input that does not begin with Magic, one
// wrapping messages.ErrVersion for another format version, one wrapping
// ErrCorrupt for a backup cut short, damaged or inconsistent, and r's own
// errors wrapped.
func Read(r io.Reader) (Header, *store.Store, error) {
	hb := make([]byte, HeaderSize)
	n, err := io.ReadFull(r, hb)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return Header{}, nil, fmt.Errorf("read backup header: %w", err)
	}
	switch got := hb[:min(n, len(Magic))]; {
	case n == 0:
		return Header{}, nil, fmt.Errorf("%w: it is empty", ErrCorrupt)
	case !bytes.HasPrefix([]byte(Magic), got):
		return Header{}, nil, fmt.Errorf("%w: it begins with %q, not %q", ErrNotBackup, got, Magic)
	case n < HeaderSize:
		return Header{}, nil, fmt.Errorf("%w: it has %d bytes, fewer than the %d of a header", ErrCorrupt, n, HeaderSize)
	}
	if v := binary.BigEndian.Uint32(hb[len(Magic):]); v != FormatVersion {
		return Header{}, nil, fmt.Errorf("backup of format version %d (this build reads version %d): %w", v, FormatVersion, messages.ErrVersion)
	}
	h := decodeHeader(hb)
	sum := sha256.New()
	sum.Write(hb)

	// The store stream is everything between the header and the trailer,
	// the last TrailerSize bytes: tail holds those back from the stream's
	// reader, and body hashes and counts what it passes on.
	tail := &tailReader{br: bufio.NewReaderSize(r, 256<<10)}
	body := &summingReader{r: tail, h: sum}
	st, parseErr := store.ReadSnapshot(body)
	if _, err := io.Copy(io.Discard, body); err != nil {
		return h, nil, fmt.Errorf("read backup: %w", err)
	}
	trailer, err := tail.trailer()
	if err != nil {
		return h, nil, err
	}
	if !bytes.Equal(trailer[:len(TrailerMagic)], []byte(TrailerMagic)) {
		return h, nil, fmt.Errorf("%w: no trailer at its end, %d bytes after the header: it was cut short (or has bytes appended)",
			ErrCorrupt, body.n+TrailerSize)
	}
	if size := binary.BigEndian.Uint64(trailer[len(TrailerMagic):]); size != uint64(body.n) {
		return h, nil, fmt.Errorf("%w: its trailer says the store stream has %d bytes, and it has %d", ErrCorrupt, size, body.n)
	}
	sum.Write(trailer[:TrailerSize-sha256.Size])
	if got := sum.Sum(nil); !bytes.Equal(got, trailer[TrailerSize-sha256.Size:]) {
		return h, nil, fmt.Errorf("%w: checksum mismatch: its bytes hash to SHA-256 %x, and its trailer says %x",
			ErrCorrupt, got, trailer[TrailerSize-sha256.Size:])
	}
	copy(h.Checksum[:], trailer[TrailerSize-sha256.Size:])
	// The checksum holds: the store stream is what the member wrote.
	if parseErr != nil {
		return h, nil, fmt.Errorf("%w: the store stream does not read: %w", ErrCorrupt, parseErr)
	}
	if st.Revision() != h.Revision || uint64(st.Len()) != h.Keys {
		return h, nil, fmt.Errorf("%w: its header says revision %d and %d keys, its store holds revision %d and %d keys",
			ErrCorrupt, h.Revision, h.Keys, st.Revision(), st.Len())
	}
	return h, st, nil
}

// ReadFile is Read of the file at path.
func ReadFile(path string) (Header, *store.Store, error) {
	f, err := os.Open(path)
	if err != nil {
		return Header{}, nil, fmt.Errorf("open backup: %w", err)
	}
	defer f.Close()
	h, st, err := Read(f)
	if err != nil {
		return h, nil, fmt.Errorf("backup %s: %w", path, err)
	}
	return h, st, nil
}

// tailReader reads br but its last TrailerSize bytes, which trailer then
// returns.
type tailReader struct {
	br *bufio.Reader
}

func (t *tailReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	want := min(len(p), t.br.Size()-TrailerSize)
	b, err := t.br.Peek(TrailerSize + want)
	n := min(len(b)-TrailerSize, len(p))
	if n <= 0 {
		if err == nil {
			err = io.ErrNoProgress // cannot be: Peek returns what it was asked for, or an error
		}
		return 0, err
	}
	copy(p, b[:n])
	_, _ = t.br.Discard(n)
	return n, nil
}

// trailer returns the last TrailerSize bytes, once Read has returned
// io.EOF: an error wrapping ErrCorrupt if the input was shorter.
func (t *tailReader) trailer() ([]byte, error) {
	b, err := t.br.Peek(TrailerSize)
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: it ends %d bytes after its header, too soon for a trailer", ErrCorrupt, len(b))
	}
	if err != nil {
		return nil, fmt.Errorf("read backup trailer: %w", err)
	}
	return b, nil
}

// summingReader reads r, and counts and hashes what it reads.
type summingReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (s *summingReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.h.Write(p[:n])
	s.n += int64(n)
	return n, err
}
