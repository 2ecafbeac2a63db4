package asm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
)

// FuzzInstructions decodes arbitrary bytes in both byte orders. Whatever
// decodes must encode to the same bytes and format without panicking.
func FuzzInstructions(f *testing.F) {
	for _, sec := range testdataSections(f) {
		f.Add(sec.data)
	}
	for _, bo := range byteOrders {
		var buf bytes.Buffer
		if err := every.Marshal(&buf, bo); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Add([]byte{0x18, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0xdb, 0x21, 0, 0, 0xff, 0x01, 0, 0})

	f.Fuzz(func(t *testing.T, data []byte) {
		for _, bo := range byteOrders {
			insns, err := AppendInstructions(nil, bytes.NewReader(data), bo, "linux")
			if err != nil {
				continue
			}
			var buf bytes.Buffer
			if err := insns.marshalTo(&buf, bo, false); err != nil {
				t.Fatalf("%v: decoded instructions do not encode: %v\n%v", bo, err, insns)
			}
			if !bytes.Equal(buf.Bytes(), data) {
				t.Fatalf("%v: round trip changed bytes:\n got % x\nwant % x", bo, buf.Bytes(), data)
			}
			_ = fmt.Sprint(insns)
			_, _ = insns.Tag(bo)
		}
	})
}

// TestDecodeEveryOpcode runs every opcode byte with assorted fields
// through decode and encode.
func TestDecodeEveryOpcode(t *testing.T) {
	fields := [][7]byte{
		{0x00, 0, 0, 0, 0, 0, 0},
		{0x21, 1, 0, 1, 0, 0, 0},
		{0xa1, 8, 0, 0xe1, 0, 0, 0},
		{0x12, 16, 0, 0x10, 0x01, 0, 0},
		{0xff, 32, 0, 0xff, 0xff, 0xff, 0xff},
		{0x34, 0xff, 0xff, 0x00, 0x01, 0, 0},
	}
	for code := range 256 {
		for _, fl := range fields {
			raw := append([]byte{byte(code)}, fl[:]...)
			if isWide(byte(code)) {
				raw = append(raw, 0, 0, 0, 0, 1, 2, 3, 4)
			}
			for _, bo := range byteOrders {
				insns, err := AppendInstructions(nil, bytes.NewReader(raw), bo, "linux")
				if err != nil {
					continue
				}
				var buf bytes.Buffer
				if err := insns.marshalTo(&buf, bo, false); err != nil {
					t.Fatalf("%#x % x: %v", code, raw, err)
				}
				if !bytes.Equal(buf.Bytes(), raw) {
					t.Fatalf("%v: % x became % x (%v)", bo, raw, buf.Bytes(), insns)
				}
				_ = fmt.Sprint(insns)
			}
		}
	}
	_ = binary.LittleEndian
}
