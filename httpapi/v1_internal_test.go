package httpapi

import (
	"bytes"
	"testing"
)

func TestPrefixEnd(t *testing.T) {
	tests := []struct{ prefix, want string }{
		{"a", "b"},
		{"ab", "ac"},
		{"a\xff", "b"},
		{"a\xff\xff", "b"},
		{"\xff", "\x00"},
		{"\xff\xff", "\x00"},
		{"", "\x00"},
		{"a\x00", "a\x01"},
	}
	for i, tt := range tests {
		if got := prefixEnd([]byte(tt.prefix)); !bytes.Equal(got, []byte(tt.want)) {
			t.Errorf("%d: prefixEnd(%q) = %q, want %q", i, tt.prefix, got, tt.want)
		}
	}
	// The input is not modified.
	p := []byte("az")
	prefixEnd(p)
	if string(p) != "az" {
		t.Errorf("prefixEnd modified its input: %q", p)
	}
}

func TestNextTokenRoundTrip(t *testing.T) {
	for i, key := range []string{"", "a", "a\x00", "\xff\xfe/ü", "key with spaces"} {
		got, err := decodeNext(encodeNext([]byte(key)))
		if err != nil || string(got) != key {
			t.Errorf("%d: token of %q decodes to %q, %v", i, key, got, err)
		}
	}
}
