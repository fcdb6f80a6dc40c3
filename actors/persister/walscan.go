package persister

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"

	"go.etcd.io/etcd/pkg/v3/crc"
	"go.etcd.io/etcd/server/v3/storage/wal/walpb"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// The record types of etcd's WAL (wal.go); the scan needs two of them.
const (
	walEntryType int64 = 2
	walCRCType   int64 = 4
)

// maxRecordSize bounds one WAL record as raftkv writes them: an entry holds
// one command of at most a 4 KiB key and a 1 MiB value, or a membership
// change, or a hard state or snapshot record. A frame claiming more is
// damage, not a record.
const maxRecordSize = 8 << 20

// segmentScan is what scanning one WAL segment found: how far its records
// are whole and check out, what lies there, and whether anything but zeros
// follows.
type segmentScan struct {
	path string
	size int64
	// valid is the end of the last record whose frame and checksum are
	// good; records counts them, lastIndex is the index of the last entry
	// among them (0 if none).
	valid     int64
	records   int
	lastIndex uint64
	// damage says what is at valid when it is not the end of what was
	// written ("" when it is: a zero length word, or the end of the file);
	// damageEnd is where that damaged record ends, as far as can be told;
	// torn says that a disk sector of it was never written (all zeros), as
	// when a write was cut short, rather than written wrong.
	damage    string
	damageEnd int64
	torn      bool
	// nonZero is the offset of the first byte other than zero at or after
	// damageEnd (or after valid when there is no damage), -1 if none: a
	// segment being written is preallocated with zeros, so anything else
	// after the end of its records was written after them.
	nonZero int64
}

// scanSegment reads the WAL segment at path record by record, as etcd's
// decoder does (frames of a length word and a record, CRC-32C chained from
// the segment's first, CRC, record), but goes on past where the records
// stop to see what follows.
func scanSegment(path string) (segmentScan, error) {
	f, err := os.Open(path)
	if err != nil {
		return segmentScan{}, fmt.Errorf("scan wal segment: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return segmentScan{}, fmt.Errorf("scan wal segment: %w", err)
	}
	s := segmentScan{path: path, size: fi.Size(), nonZero: -1}
	r := bufio.NewReaderSize(f, 1<<20)
	var digest hash.Hash32
	word := make([]byte, 8)
	for {
		n, err := io.ReadFull(r, word)
		if errors.Is(err, io.EOF) {
			s.damageEnd = s.valid
			return s, nil
		}
		if err != nil {
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				return s, fmt.Errorf("scan wal segment %s: %w", path, err)
			}
			s.damage, s.damageEnd = fmt.Sprintf("a length word cut short (%d of 8 bytes)", n), s.size
			return s, nil
		}
		_ = n
		l := int64(binary.LittleEndian.Uint64(word))
		if l == 0 {
			s.damageEnd = s.valid
			return s, s.findNonZero(r, s.valid+8)
		}
		recBytes, padBytes := frameSize(l)
		if recBytes <= 0 || recBytes > maxRecordSize || s.valid+8+recBytes+padBytes > s.size {
			s.damage, s.damageEnd = fmt.Sprintf("a length word claiming %d bytes", recBytes), s.valid+8
			return s, s.findNonZero(r, s.damageEnd)
		}
		data := make([]byte, recBytes+padBytes)
		if _, err := io.ReadFull(r, data); err != nil {
			return s, fmt.Errorf("scan wal segment %s: %w", path, err)
		}
		end := s.valid + 8 + recBytes + padBytes
		var rec walpb.Record
		if err := proto.Unmarshal(data[:recBytes], &rec); err != nil {
			s.damage, s.damageEnd, s.torn = "a record that does not decode", end, unwritten(data, s.valid+8)
			return s, s.findNonZero(r, end)
		}
		if rec.GetType() == walCRCType {
			if digest != nil && digest.Sum32() != rec.GetCrc() {
				s.damage, s.damageEnd = "a checksum record that breaks the chain", end
				return s, s.findNonZero(r, end)
			}
			digest = crc.New(rec.GetCrc(), crcTable)
		} else {
			if digest == nil {
				digest = crc.New(0, crcTable)
			}
			_, _ = digest.Write(rec.GetData())
			if digest.Sum32() != rec.GetCrc() {
				s.damage, s.damageEnd, s.torn = "a record whose checksum does not match", end, unwritten(data, s.valid+8)
				return s, s.findNonZero(r, end)
			}
		}
		if rec.GetType() == walEntryType {
			var e raftpb.Entry
			if err := proto.Unmarshal(rec.GetData(), &e); err == nil {
				s.lastIndex = e.GetIndex()
			}
		}
		s.valid, s.records = end, s.records+1
	}
}

// sectorSize is the unit a disk writes whole or not at all.
const sectorSize = 512

// unwritten tells whether data, a record read at offset off of its
// segment, spans a disk sector that holds only zeros: a write cut short
// leaves such sectors (the segment is preallocated with zeros), a bit
// flipped on the disk does not.
func unwritten(data []byte, off int64) bool {
	for start := 0; start < len(data); {
		n := min(int(sectorSize-(off+int64(start))%sectorSize), len(data)-start)
		if allZero(data[start : start+n]) {
			return true
		}
		start += n
	}
	return false
}

// zeroBlock is what allZero compares with, a block at a time.
var zeroBlock [1 << 16]byte

func allZero(b []byte) bool {
	for len(b) > 0 {
		n := min(len(b), len(zeroBlock))
		if !bytes.Equal(b[:n], zeroBlock[:n]) {
			return false
		}
		b = b[n:]
	}
	return true
}

// findNonZero reads on from offset at (where r stands) and notes the first
// byte that is not zero.
func (s *segmentScan) findNonZero(r *bufio.Reader, at int64) error {
	buf := make([]byte, 1<<20)
	for off := at; ; {
		n, err := r.Read(buf)
		if !allZero(buf[:n]) {
			s.nonZero = off + int64(bytes.IndexFunc(buf[:n], func(r rune) bool { return r != 0 }))
			return nil
		}
		off += int64(n)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("scan wal segment %s: %w", s.path, err)
		}
	}
}

// frameSize splits a length word as etcd's WAL encodes it: the record's
// length in the lower 56 bits, its padding in the lowest 3 bits of the top
// byte when the top bit is set.
func frameSize(lenField int64) (recBytes, padBytes int64) {
	recBytes = int64(uint64(lenField) & ^(uint64(0xff) << 56))
	if lenField < 0 {
		padBytes = int64((uint64(lenField) >> 56) & 0x7)
	}
	return recBytes, padBytes
}

// checkSegmentNames checks the names of the WAL's segments (seq-index.wal,
// in hex, sorted) before etcd's WAL opens them: their sequence numbers must
// run without a gap, and the first must start at or before snapIndex, the
// index of the snapshot the member restores from. A missing segment is a
// lost part of the log.
func checkSegmentNames(names []string, snapIndex uint64) error {
	var prev uint64
	for i, name := range names {
		var seq, index uint64
		if _, err := fmt.Sscanf(name, "%016x-%016x.wal", &seq, &index); err != nil {
			return fmt.Errorf("WAL segment %q: not a segment name", name)
		}
		if i == 0 && index > snapIndex {
			return fmt.Errorf("the oldest WAL segment, %s, starts at index %d, after the snapshot at %d: the segments before it are missing",
				name, index, snapIndex)
		}
		if i > 0 && seq != prev+1 {
			return fmt.Errorf("WAL segment %d is missing: %s follows %s", prev+1, name, names[i-1])
		}
		prev = seq
	}
	return nil
}
