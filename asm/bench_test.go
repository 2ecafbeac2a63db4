package asm

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"
)

// benchProgram is every test object's code, a realistic instruction mix.
func benchProgram(b *testing.B) ([]byte, Instructions) {
	b.Helper()
	var raw []byte
	for _, sec := range testdataSections(b) {
		if sec.bo != binary.LittleEndian {
			continue
		}
		raw = append(raw, sec.data...)
	}
	insns, err := AppendInstructions(nil, bytes.NewReader(raw), binary.LittleEndian, "linux")
	if err != nil {
		b.Fatal(err)
	}
	return raw, insns
}

func BenchmarkUnmarshal(b *testing.B) {
	raw, insns := benchProgram(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	b.ReportMetric(float64(len(insns)), "insns/op")
	r := bytes.NewReader(raw)
	for b.Loop() {
		r.Reset(raw)
		if _, err := AppendInstructions(nil, r, binary.LittleEndian, "linux"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnmarshalInto reuses the output slice: no allocation at all.
func BenchmarkUnmarshalInto(b *testing.B) {
	raw, insns := benchProgram(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	out := make(Instructions, 0, len(insns))
	r := bytes.NewReader(raw)
	for b.Loop() {
		r.Reset(raw)
		var err error
		if out, err = AppendInstructions(out[:0], r, binary.LittleEndian, "linux"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshal(b *testing.B) {
	raw, insns := benchProgram(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	var buf bytes.Buffer
	buf.Grow(len(raw))
	for b.Loop() {
		buf.Reset()
		if err := insns.Marshal(&buf, binary.LittleEndian); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInstructionUnmarshal(b *testing.B) {
	var buf bytes.Buffer
	if _, err := LoadImm(R1, 42, DWord).Marshal(&buf, binary.LittleEndian); err != nil {
		b.Fatal(err)
	}
	raw := buf.Bytes()
	r := bytes.NewReader(raw)
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(raw)
		var ins Instruction
		if err := ins.Unmarshal(r, binary.LittleEndian, "linux"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInstructionMarshal(b *testing.B) {
	ins := LoadImm(R1, 42, DWord)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ins.Marshal(io.Discard, binary.LittleEndian); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTag(b *testing.B) {
	raw, insns := benchProgram(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := insns.HasTag("0000000000000000", binary.LittleEndian); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFormat(b *testing.B) {
	_, insns := benchProgram(b)
	b.ReportAllocs()
	for b.Loop() {
		_ = insns.String()
	}
}
