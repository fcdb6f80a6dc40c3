package messages

import (
	"bytes"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// A plain put encoded by hand is, byte for byte, what the codec writes,
// across the forms of every integer and bin; decoded by hand, it is what
// the codec decodes, and the put it was.
func TestAppendPutMatchesCodec(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	uints := []uint64{0, 1, 127, 128, 255, 256, math.MaxUint16, math.MaxUint16 + 1, math.MaxUint32, math.MaxUint32 + 1, math.MaxUint64}
	ints := []int64{0, 1, 127, 128, math.MaxInt16 + 1, math.MaxInt32 + 1, math.MaxInt64, -1, -33, math.MinInt64}
	sizes := []int{0, 1, 255, 256, math.MaxUint16, math.MaxUint16 + 1}
	bytesOf := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	for i := range 2000 {
		op := Op{Type: OpPut, Key: bytesOf(1 + rng.IntN(300)), Value: bytesOf(sizes[rng.IntN(len(sizes))]),
			Lease: ints[rng.IntN(len(ints))], PrevKV: rng.IntN(2) == 0}
		if i%7 == 0 {
			op.Key = bytesOf(sizes[2+rng.IntN(len(sizes)-2)])
		}
		c := Command{ID: RequestID{Node: uints[rng.IntN(len(uints))], Seq: uints[rng.IntN(len(uints))]},
			Txn: Txn{Success: []Op{op}, Compares: []Compare{}}}
		if i%5 == 0 {
			c.ID.Seq = rng.Uint64()
		}
		got, err := EncodeCommand(c)
		if err != nil {
			t.Fatal(err)
		}
		c.Version = FormatVersion
		want, err := Encode(&c)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("#%d: by hand\n%q\nthe codec\n%q", i, got, want)
		}
		back, ok := decodePut(got)
		if !ok {
			t.Fatalf("#%d: not decoded by hand: %q", i, got)
		}
		var viaCodec Command
		if err := Decode(got, &viaCodec); err != nil || !reflect.DeepEqual(back, viaCodec) {
			t.Fatalf("#%d: by hand %+v, the codec %+v (%v)", i, back, viaCodec, err)
		}
		if back.ID != c.ID || !reflect.DeepEqual(back.Txn.Success[0].Key, op.Key) || !bytes.Equal(back.Txn.Success[0].Value, op.Value) ||
			back.Txn.Success[0].Lease != op.Lease || back.Txn.Success[0].PrevKV != op.PrevKV {
			t.Fatalf("#%d: decoded %+v, want %+v", i, back, c)
		}
	}
}

// Every other command is left to the codec.
func TestAppendPutOnlyPlainPuts(t *testing.T) {
	put := Op{Type: OpPut, Key: []byte("k"), Value: []byte("v")}
	with := func(f func(*Command)) Command {
		c := Command{Txn: Txn{Success: []Op{put}}}
		f(&c)
		return c
	}
	for name, c := range map[string]Command{
		"an alarm":     with(func(c *Command) { c.Alarm = &AlarmChange{Member: 1} }),
		"a compaction": with(func(c *Command) { c.Compact = 3 }),
		"a lease":      with(func(c *Command) { c.Lease = &LeaseChange{ID: 1} }),
		"a compare":    with(func(c *Command) { c.Txn.Compares = []Compare{{Key: []byte("k")}} }),
		"a failure op": with(func(c *Command) { c.Txn.Failure = []Op{put} }),
		"two ops":      with(func(c *Command) { c.Txn.Success = []Op{put, put} }),
		"no op":        with(func(c *Command) { c.Txn.Success = nil }),
		"a delete":     with(func(c *Command) { c.Txn.Success[0].Type = OpDelete }),
		"an empty key": with(func(c *Command) { c.Txn.Success[0].Key = nil }),
		"a range end":  with(func(c *Command) { c.Txn.Success[0].End = []byte("z") }),
		"a limit":      with(func(c *Command) { c.Txn.Success[0].Limit = 1 }),
		"a revision":   with(func(c *Command) { c.Txn.Success[0].Revision = 1 }),
	} {
		if b, ok := appendPut(nil, &c); ok {
			t.Errorf("%s: encoded by hand as %q", name, b)
		}
	}
}

// Whatever decodePut accepts, the codec decodes to the same Command: the
// applier may take either path for any entry.
func FuzzDecodePut(f *testing.F) {
	for _, c := range []Command{
		{ID: RequestID{Node: 1, Seq: 2}, Txn: Txn{Success: []Op{{Type: OpPut, Key: []byte("k"), Value: []byte("v")}}}},
		{ID: RequestID{Node: 300, Seq: math.MaxUint64}, Txn: Txn{Success: []Op{{Type: OpPut, Key: []byte("key"), Lease: -200, PrevKV: true}}}},
		{ID: RequestID{Node: 70000, Seq: 1 << 40}, Txn: Txn{Success: []Op{{Type: OpPut, Key: make([]byte, 300), Value: make([]byte, 70000), Lease: 1 << 40}}}},
	} {
		b, _ := EncodeCommand(c)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, ok := decodePut(data)
		if !ok {
			return
		}
		var viaCodec Command
		if err := Decode(data, &viaCodec); err != nil || !reflect.DeepEqual(c, viaCodec) {
			t.Fatalf("by hand %+v, the codec %+v (%v)", c, viaCodec, err)
		}
		if again, _ := EncodeCommand(c); !bytes.Equal(again, data) {
			t.Fatalf("accepted %q, which encodes as %q", data, again)
		}
	})
}

// A decoded put's key and value are the entry's own bytes, not copies,
// capped so that appending to them cannot write over the entry.
func TestDecodePutSharesData(t *testing.T) {
	data, _ := EncodeCommand(Command{ID: RequestID{Node: 1, Seq: 2},
		Txn: Txn{Success: []Op{{Type: OpPut, Key: []byte("key"), Value: bytes.Repeat([]byte("v"), 2000)}}}})
	c, ok := decodePut(data)
	if !ok {
		t.Fatal("a plain put did not decode by hand")
	}
	op := c.Txn.Success[0]
	within := func(b []byte) bool {
		for i := range data {
			if len(b) > 0 && &data[i] == &b[0] {
				return i+len(b) <= len(data)
			}
		}
		return false
	}
	if !within(op.Key) || !within(op.Value) {
		t.Fatal("the key or the value is a copy, not a slice of the entry's data")
	}
	before := bytes.Clone(data)
	_ = append(op.Key, 'x')
	_ = append(op.Value, 'x')
	if !bytes.Equal(data, before) {
		t.Fatal("appending to the key or value wrote over the entry's data")
	}
}
