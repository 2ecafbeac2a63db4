package internal

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// VerifierError is the kernel's refusal of a program (or of BTF) together
// with what the verifier wrote about it. The root package exports it as
// ebpf.VerifierError.
//
// Error gives a one-line summary: the cause, the verifier's last words about
// the rejected instruction and, when line info was loaded, the source line.
// Formatting with %+v adds the whole log, see Format.
type VerifierError struct {
	// Cause is the error of the bpf(2) call, usually EACCES or EINVAL.
	Cause error
	// Log is the verifier's output split into lines, without trailing
	// white space. It is empty when the load ran without a log.
	Log []string
	// Truncated reports that the log did not fit into the largest buffer
	// the kernel accepts, so part of it is missing.
	Truncated bool
	// Source is the location of the rejected instruction, "file.c:32",
	// when the program was loaded with BTF line info; otherwise empty.
	Source string

	op string
}

// NewVerifierError makes a VerifierError for the failed operation op ("load
// program", "load BTF") from the raw log buffer the kernel filled. Bytes
// after the first NUL are ignored. truncated says whether the log was cut
// off. Source is left for the caller, which knows the instructions.
func NewVerifierError(op string, cause error, log []byte, truncated bool) *VerifierError {
	if i := bytes.IndexByte(log, 0); i >= 0 {
		log = log[:i]
	}
	log = bytes.TrimRight(log, " \t\r\n\v")
	// Leading blank lines carry nothing; keep indentation of the first
	// real line, BTF dumps rely on it.
	log = bytes.TrimLeft(log, "\r\n")

	var lines []string
	if len(log) > 0 {
		lines = make([]string, 0, bytes.Count(log, []byte{'\n'})+1)
		for len(log) > 0 {
			line := log
			if i := bytes.IndexByte(log, '\n'); i >= 0 {
				line, log = log[:i], log[i+1:]
			} else {
				log = nil
			}
			lines = append(lines, string(bytes.TrimRight(line, " \t\r\v")))
		}
	}
	return &VerifierError{Cause: cause, Log: lines, Truncated: truncated, op: op}
}

// Unwrap returns Cause, so errors.Is(err, unix.EACCES) works.
func (le *VerifierError) Unwrap() error { return le.Cause }

// Error summarises the error in one line: "load program: permission
// denied: invalid access to map value, value_size=8 off=24 size=8: R0 min
// value is outside of the allowed memory range (err_verifier.c:32)".
func (le *VerifierError) Error() string {
	var b strings.Builder
	le.writeHead(&b)
	for _, line := range le.summary() {
		b.WriteString(": ")
		b.WriteString(strings.TrimSpace(line))
	}
	if le.Source != "" {
		b.WriteString(" (")
		b.WriteString(le.Source)
		b.WriteString(")")
	}
	if le.Truncated {
		b.WriteString(" (log truncated)")
	}
	return b.String()
}

func (le *VerifierError) writeHead(w io.Writer) {
	op := le.op
	if op == "" {
		op = "verifier"
	}
	cause := "<nil>"
	if le.Cause != nil {
		cause = le.Cause.Error()
	}
	fmt.Fprintf(w, "%s: %s", op, cause)
}

// summaryLines is the most the one-line summary quotes from the log.
const summaryLines = 3

// summary picks the lines that explain the rejection: what the verifier
// printed after the last instruction it walked (the complaint about that
// instruction), without the statistics it prints at the end. Without an
// instruction line, the last line stands alone, with the one before it if
// it is a continuation (an indented BTF member, a register dump).
func (le *VerifierError) summary() []string {
	log := le.Log
	for len(log) > 0 && isStatsLine(log[len(log)-1]) {
		log = log[:len(log)-1]
	}
	if len(log) == 0 {
		return nil
	}

	start := len(log) - 1
	if i, ok := lastInstructionLine(log); ok && i < len(log)-1 {
		start = i + 1
	} else if start > 0 && continuesPrevious(log[start]) {
		start--
	}
	// Skip source annotations and blank lines the verifier interleaves.
	var out []string
	for _, line := range log[start:] {
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, ";") {
			continue
		}
		out = append(out, line)
	}
	if len(out) > summaryLines {
		out = out[len(out)-summaryLines:]
	}
	return out
}

func isStatsLine(line string) bool {
	return strings.HasPrefix(line, "processed ") ||
		strings.HasPrefix(line, "verification time ") ||
		strings.HasPrefix(line, "stack depth ") ||
		strings.HasPrefix(line, "-- END")
}

func continuesPrevious(line string) bool {
	return strings.HasPrefix(line, "\t") ||
		len(line) >= 2 && line[0] == 'R' && line[1] >= '0' && line[1] <= '9'
}

// lastInstructionLine finds the last line of the form "17: (85) call ...",
// the verifier's print of an instruction it is checking.
func lastInstructionLine(log []string) (int, bool) {
	for i := len(log) - 1; i >= 0; i-- {
		if _, ok := instructionOfLine(log[i]); ok {
			return i, true
		}
	}
	return 0, false
}

// instructionOfLine parses "17: (85) call bpf_map_lookup_elem#1" into 17.
// The opcode in parentheses tells instruction lines apart from state dumps
// ("17: R0=...").
func instructionOfLine(line string) (int, bool) {
	colon := strings.IndexByte(line, ':')
	if colon <= 0 || !strings.HasPrefix(line[colon:], ": (") {
		return 0, false
	}
	n, err := strconv.Atoi(line[:colon])
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// RejectedInstruction returns the raw instruction offset (in 8-byte units,
// as the verifier counts) of the last instruction the verifier printed in
// log: the one it rejected, when the log ends in a rejection. Logs written
// with a log level below 1 name no instructions.
func RejectedInstruction(log []string) (int, bool) {
	i, ok := lastInstructionLine(log)
	if !ok {
		return 0, false
	}
	return instructionOfLine(log[i])
}

// LogSource returns the "file:line" the verifier's last source annotation
// ("; return value[3]; @ err_verifier.c:32", Linux 6.2 and later) names,
// or "" if there is none.
func LogSource(log []string) string {
	for i := len(log) - 1; i >= 0; i-- {
		line := strings.TrimSpace(log[i])
		if !strings.HasPrefix(line, ";") {
			continue
		}
		at := strings.LastIndex(line, " @ ")
		if at < 0 {
			return ""
		}
		return strings.TrimSpace(line[at+3:])
	}
	return ""
}

// Format formats the error for the verbs s and v. %s and %v print Error.
// %+v prints the head ("load program: permission denied:") followed by the
// whole log, one indented line each; a width prints only the first width
// lines (%+10v), and the '-' flag the last ones instead (%-10v). Omitted
// lines and truncation are said.
func (le *VerifierError) Format(f fmt.State, verb rune) {
	switch verb {
	case 's':
		io.WriteString(f, le.Error())
		return
	case 'v':
	default:
		fmt.Fprintf(f, "%%!%c(*VerifierError=%s)", verb, le.Error())
		return
	}

	plus, minus := f.Flag('+'), f.Flag('-')
	width, haveWidth := f.Width()
	if !plus && !minus {
		io.WriteString(f, le.Error())
		return
	}

	lines := le.Log
	if haveWidth && width < len(lines) {
		if minus {
			lines = lines[len(lines)-width:]
		} else {
			lines = lines[:width]
		}
	}
	omitted := len(le.Log) - len(lines)

	le.writeHead(f)
	io.WriteString(f, ":")
	if le.Source != "" {
		fmt.Fprintf(f, " (%s)", le.Source)
	}
	if le.Truncated {
		io.WriteString(f, " (log truncated)")
	}
	if minus && omitted > 0 {
		fmt.Fprintf(f, "\n\t(%d line(s) omitted)", omitted)
	}
	for _, line := range lines {
		io.WriteString(f, "\n\t")
		io.WriteString(f, line)
	}
	if !minus && omitted > 0 {
		fmt.Fprintf(f, "\n\t(%d line(s) omitted)", omitted)
	}
}
