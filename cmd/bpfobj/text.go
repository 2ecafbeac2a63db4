package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// The human-readable output: sections of aligned tables, each headed by
// column names in capitals, with details that don't fit a column on
// indented lines below. Everything is sorted by name.

func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// sizeAndType prints "4 __u32" for a key or value.
func sizeAndType(size uint32, typ string) string {
	s := strconv.FormatUint(uint64(size), 10)
	if typ != "" {
		s += " " + typ
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func writeObject(w io.Writer, obj *Object) {
	btfNote := "no BTF"
	if obj.BTF {
		btfNote = "BTF"
	}
	fmt.Fprintf(w, "%s: %s, %s, %s, %s, %s\n", obj.File, obj.ByteOrder, btfNote,
		plural(len(obj.Maps), "map"), plural(len(obj.Programs), "program"), plural(len(obj.Variables), "variable"))

	if len(obj.Maps) > 0 {
		fmt.Fprintln(w)
		writeMaps(w, obj.Maps)
	}
	if len(obj.Programs) > 0 {
		fmt.Fprintln(w)
		writePrograms(w, obj.Programs)
	}
	if len(obj.Variables) > 0 {
		fmt.Fprintln(w)
		writeVariables(w, obj.Variables, true)
	}
	for _, p := range obj.Programs {
		if len(p.Disassembly) > 0 {
			fmt.Fprintln(w)
			writeDisassembly(w, p)
		}
	}
	if len(obj.Types) > 0 {
		fmt.Fprintln(w)
		var sb strings.Builder
		writeGoTypes(&sb, obj.File, obj.Types)
		io.WriteString(w, sb.String())
	}
}

func writeMaps(w io.Writer, ms []*Map) {
	tw := newTable(w)
	fmt.Fprintln(tw, "MAP\tTYPE\tKEY\tVALUE\tMAX ENTRIES\tFLAGS\tPINNING")
	for _, m := range ms {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", m.Name, m.Type,
			sizeAndType(m.KeySize, m.KeyType), sizeAndType(m.ValueSize, m.ValueType),
			m.MaxEntries, orDash(strings.Join(m.FlagNames, "|")), m.Pinning)
	}
	tw.Flush()
	for _, m := range ms {
		writeMapDetails(w, m, "  "+m.Name)
	}
}

// maxListedEntries bounds the initial contents show lists per map.
const maxListedEntries = 16

func writeMapDetails(w io.Writer, m *Map, prefix string) {
	if m.MapExtra != 0 {
		fmt.Fprintf(w, "%s: map_extra %#x\n", prefix, m.MapExtra)
	}
	if in := m.InnerMap; in != nil {
		fmt.Fprintf(w, "%s: inner map %s: %s, key %s, value %s, max entries %d\n", prefix, orDash(in.Name), in.Type,
			sizeAndType(in.KeySize, in.KeyType), sizeAndType(in.ValueSize, in.ValueType), in.MaxEntries)
	}
	if m.Section {
		// The contents are the variables, listed in their own table.
		return
	}
	for i, e := range m.Contents {
		if i == maxListedEntries {
			fmt.Fprintf(w, "%s: ... (%d entries in all; -json lists them)\n", prefix, len(m.Contents))
			break
		}
		fmt.Fprintf(w, "%s[%s] = %s\n", prefix, e.Key, e.Value)
	}
}

func writePrograms(w io.Writer, ps []*Program) {
	tw := newTable(w)
	fmt.Fprintln(tw, "PROGRAM\tSECTION\tTYPE\tATTACH\tTARGET\tINSNS\tLICENSE\tMAPS")
	for _, p := range ps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", p.Name, orDash(p.Section), p.Type,
			orDash(p.AttachType), orDash(p.AttachTo), p.Instructions, orDash(p.License), orDash(strings.Join(p.Maps, " ")))
	}
	tw.Flush()
	for _, p := range ps {
		if len(p.Functions) > 0 {
			fmt.Fprintf(w, "  %s: calls %s\n", p.Name, strings.Join(p.Functions, " "))
		}
		if p.Flags != 0 {
			fmt.Fprintf(w, "  %s: flags %s\n", p.Name, strings.Join(flagNames(p.Flags, progFlags), "|"))
		}
	}
}

func writeVariables(w io.Writer, vs []*Variable, withLayout bool) {
	tw := newTable(w)
	if withLayout {
		fmt.Fprintln(tw, "VARIABLE\tSECTION\tOFFSET\tSIZE\tTYPE\tVALUE")
	} else {
		fmt.Fprintln(tw, "VARIABLE\tSECTION\tTYPE\tVALUE")
	}
	for _, v := range vs {
		typ := orDash(v.Type)
		if v.Constant && !strings.HasPrefix(typ, "const") {
			typ += " (const)"
		}
		if withLayout {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", v.Name, v.Section, v.Offset, v.Size, typ, v.Value)
		} else {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", v.Name, v.Section, typ, v.Value)
		}
	}
	tw.Flush()
}

func writeDisassembly(w io.Writer, p *Program) {
	fmt.Fprintf(w, "DISASSEMBLY %s\n", p.Name)
	for _, ins := range p.Disassembly {
		if ins.Function != "" {
			fmt.Fprintf(w, "%s:\n", ins.Function)
		}
		if ins.Source != "" {
			fmt.Fprintf(w, "\t; %s\n", ins.Source)
		}
		fmt.Fprintf(w, "%6d: %s\n", ins.Offset, ins.Text)
	}
}

func writeLoad(w io.Writer, file string, lr *LoadResult) {
	if lr.OK {
		fmt.Fprintf(w, "%s: loaded %s and %s\n", file, plural(len(lr.Programs), "program"), plural(lr.Maps, "map"))
	}
	for _, n := range lr.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	if len(lr.Programs) > 0 {
		tw := newTable(w)
		fmt.Fprintln(tw, "LOADED\tINSNS PROCESSED\tSTATES (TOTAL/PEAK)\tVERIFY TIME\tSTACK")
		for _, p := range lr.Programs {
			fmt.Fprintf(tw, "%s\t%d\t%d/%d\t%s\t%s\n", p.Name, p.Processed, p.TotalStates, p.PeakStates,
				time.Duration(p.TimeMicros)*time.Microsecond, orDash(p.StackDepth))
		}
		tw.Flush()
	}
	if vf := lr.Verifier; vf != nil {
		name := "a program"
		if vf.Program != "" {
			name = "program " + vf.Program
		}
		fmt.Fprintf(w, "the kernel rejected %s\n", name)
		fmt.Fprintf(w, "  error:   %s\n", vf.Cause)
		if vf.Source != "" {
			fmt.Fprintf(w, "  source:  %s", vf.Source)
			if vf.SourceLine != "" {
				fmt.Fprintf(w, ": %s", vf.SourceLine)
			}
			fmt.Fprintln(w)
		}
		switch {
		case len(vf.Log) > 0:
			fmt.Fprintln(w, "  verifier log:")
			for _, l := range vf.Log {
				fmt.Fprintf(w, "    %s\n", l)
			}
			if vf.Truncated {
				fmt.Fprintln(w, "    (log truncated)")
			}
		case vf.LogLines > 0:
			fmt.Fprintf(w, "  verifier log: %s (-v prints it)\n", plural(vf.LogLines, "line"))
		}
	}
}

func writeRun(w io.Writer, r *RunResult) {
	ret := strconv.FormatUint(uint64(r.Return), 10)
	if r.ReturnName != "" {
		ret += " (" + r.ReturnName + ")"
	}
	fmt.Fprintf(w, "RUN %s\n", r.Program)
	tw := newTable(w)
	fmt.Fprintf(tw, "  return\t%s\n", ret)
	if r.DataIn != "" {
		note := ""
		if r.DataInNote != "" {
			note = "sample packet"
		}
		fmt.Fprintf(tw, "  data in\t%s\n", describeBytes(r.DataIn, note))
	}
	if r.DataOut != "" {
		note := ""
		if r.DataOut == r.DataIn {
			note = "unchanged"
		}
		fmt.Fprintf(tw, "  data out\t%s\n", describeBytes(r.DataOut, note))
	}
	if r.CtxIn != "" {
		fmt.Fprintf(tw, "  ctx in\t%s\n", describeBytes(r.CtxIn, ""))
	}
	if r.CtxOut != "" {
		fmt.Fprintf(tw, "  ctx out\t%s\n", describeBytes(r.CtxOut, ""))
	}
	how := "measured by the kernel"
	if r.TimeSource == "wall" {
		how = "wall clock of the bpf(2) call"
	}
	fmt.Fprintf(tw, "  mean time\t%s per run, %s (%s)\n", formatNanos(r.MeanNanos), plural(int(r.Repeat), "run"), how)
	label := "after"
	for _, v := range r.Variables {
		fmt.Fprintf(tw, "  %s\t%s = %s (%s)\n", label, v.Name, v.Value, v.Section)
		label = ""
	}
	for _, d := range r.Maps {
		for _, e := range d.Entries {
			fmt.Fprintf(tw, "  %s\t%s[%s] = %s\n", label, d.Name, e.Key, e.Value)
			label = ""
		}
		if d.More {
			fmt.Fprintf(tw, "  %s\t%s: more entries (-json lists %d)\n", label, d.Name, len(d.Entries))
			label = ""
		}
	}
	tw.Flush()
}

// describeBytes prints hex data with its length; long data is cut (-json
// has all of it).
func describeBytes(hexData, note string) string {
	const maxHex = 64
	n := len(hexData) / 2
	s := plural(n, "byte")
	if note != "" {
		s += " (" + note + ")"
	}
	switch {
	case note == "unchanged" || n == 0:
	case len(hexData) > maxHex:
		s += ": " + hexData[:maxHex] + "..."
	default:
		s += ": " + hexData
	}
	return s
}

func formatNanos(ns float64) string {
	if ns < 1000 {
		return strconv.FormatFloat(ns, 'f', 0, 64) + "ns"
	}
	return time.Duration(ns).Round(10 * time.Nanosecond).String()
}
