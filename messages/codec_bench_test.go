package messages_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/raftkv/raftkv/messages"
)

// benchPutCommand is the command of a plain PUT of a value of size bytes,
// as the proposer makes it.
func benchPutCommand(size int) messages.Command {
	return messages.Command{
		ID: messages.RequestID{Node: 1, Seq: 1_700_000_000_000},
		Txn: messages.Txn{Success: []messages.Op{{
			Type: messages.OpPut, Key: []byte("bench-100B-00001234"), Value: bytes.Repeat([]byte{'v'}, size),
		}}},
	}
}

// BenchmarkEncodeCommand encodes the command of a PUT, as each write is
// encoded once into its raft entry.
//
//	go test -run '^$' -bench Command -benchmem ./messages
func BenchmarkEncodeCommand(b *testing.B) {
	for _, size := range []int{100, 1 << 10, 16 << 10} {
		b.Run(fmt.Sprintf("value=%d", size), func(b *testing.B) {
			cmd := benchPutCommand(size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := messages.EncodeCommand(cmd); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeCommand decodes the entry of a PUT, as every member's
// applier does once per committed write.
func BenchmarkDecodeCommand(b *testing.B) {
	for _, size := range []int{100, 1 << 10, 16 << 10} {
		b.Run(fmt.Sprintf("value=%d", size), func(b *testing.B) {
			data, err := messages.EncodeCommand(benchPutCommand(size))
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := messages.DecodeCommand(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
