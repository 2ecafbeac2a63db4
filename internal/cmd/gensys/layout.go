package main

import "fmt"

// layout computes sizes, alignments and member offsets with the rules of the
// LP64 System V ABIs Linux uses on its 64-bit architectures: integers are
// aligned to their size, aggregates to their strictest member, and a
// bitfield is placed in the next bits that do not straddle a unit of its
// declared type. The kernel reads every bpf(2) argument with this layout, on
// 32-bit user space too (the UAPI marks its 64-bit members __aligned_u64).
func layout(t *ctype) error {
	switch t.kind {
	case kindInt, kindEnum:
		if t.size == 0 {
			return fmt.Errorf("integer type %q without size", t.name)
		}
		return nil
	case kindArray:
		if err := layout(t.elem); err != nil {
			return err
		}
		t.size, t.align = t.elem.size*t.n, t.elem.align
		return nil
	}
	if t.size != 0 {
		return nil // shared definition, done already
	}
	if t.align < 0 {
		return fmt.Errorf("%q contains itself", t.name)
	}
	t.align = -1 // in progress
	align, bitpos := 1, 0
	for _, f := range t.fields {
		if err := layout(f.typ); err != nil {
			return err
		}
		align = max(align, f.typ.align)
		if t.kind == kindUnion {
			f.off = 0
			end := f.typ.size * 8
			if f.bits > 0 {
				end = f.bits
			}
			bitpos = max(bitpos, end)
			continue
		}
		if f.bits > 0 {
			unit := 8 * f.typ.align
			if bitpos/unit != (bitpos+f.bits-1)/unit {
				bitpos = roundUp(bitpos, unit)
			}
			f.off = bitpos / unit * f.typ.align
			f.bitOf = bitpos - 8*f.off
			bitpos += f.bits
			continue
		}
		f.off = roundUp((bitpos+7)/8, f.typ.align)
		bitpos = 8 * (f.off + f.typ.size)
	}
	t.align = align
	t.size = roundUp((bitpos+7)/8, align)
	if t.size == 0 {
		return fmt.Errorf("empty aggregate %q", t.name)
	}
	return nil
}

func roundUp(n, a int) int {
	return (n + a - 1) / a * a
}
