package main

// The JSON schema. With -json every invocation writes exactly one Report to
// standard output, also when it fails (Error is then set and the exit status
// is 1). Bad usage (exit status 2) writes no JSON, only a message to standard
// error. Fields only ever get added; their meaning doesn't change.

// Report is the one JSON document of an invocation. show fills Object; load
// fills Load and, of Object, only file, byte order and BTF; run fills the
// same as load plus Run. bpfobj without arguments fills all three as far as
// it got.
type Report struct {
	Object *Object      `json:"object,omitempty"`
	Load   *LoadResult  `json:"load,omitempty"`
	Run    []*RunResult `json:"run,omitempty"`
	// BTF is what `btf -min-core` wrote (btfcmd.go), Map what `map dump`
	// read (mapdump.go).
	BTF *BTFResult   `json:"btf,omitempty"`
	Map *MapContents `json:"map,omitempty"`
	// Note explains a stage that was skipped, e.g. "load and run need root".
	Note string `json:"note,omitempty"`
	// Error is the error that ended the invocation with exit status 1.
	Error string `json:"error,omitempty"`
}

// Object is what an ELF file holds, as the library reads it.
type Object struct {
	// File is the path given on the command line, or the name of the
	// embedded default object.
	File string `json:"file"`
	// ByteOrder is "little-endian" or "big-endian".
	ByteOrder string `json:"byte_order"`
	// BTF says whether the object carries BTF (types, line info).
	BTF       bool        `json:"btf"`
	Maps      []*Map      `json:"maps"`
	Programs  []*Program  `json:"programs"`
	Variables []*Variable `json:"variables"`
	// Types are the object's named BTF types as Go declarations (-types).
	Types []*GoType `json:"types,omitempty"`
}

// Map is a map of the object, sorted by name.
type Map struct {
	Name string `json:"name"`
	// Type is the library's MapType name: "Array", "Hash", "RingBuf", ...
	Type      string `json:"type"`
	KeySize   uint32 `json:"key_size"`
	ValueSize uint32 `json:"value_size"`
	// KeyType and ValueType are the BTF types in C syntax ("__u32",
	// "struct event", "datasec .data"), empty without BTF.
	KeyType    string `json:"key_type,omitempty"`
	ValueType  string `json:"value_type,omitempty"`
	MaxEntries uint32 `json:"max_entries"`
	Flags      uint32 `json:"flags"`
	// FlagNames are the names of the bits set in Flags ("mmapable").
	FlagNames []string `json:"flag_names,omitempty"`
	// Pinning is "none" or "by_name" (or another PinType name).
	Pinning  string `json:"pinning"`
	MapExtra uint64 `json:"map_extra,omitempty"`
	InnerMap *Map   `json:"inner_map,omitempty"`
	// Section says that the map holds the global variables of a data
	// section; its contents are listed as Variables.
	Section  bool     `json:"data_section,omitempty"`
	Contents []*Entry `json:"contents,omitempty"`
}

// Entry is one key/value pair of a map's initial contents, or of its
// contents after a run. Key and Value are decoded through BTF where the
// object has it ("0", "{a: 1, b: 2}"); a program or map name when the
// value refers to one; hex bytes otherwise. Both are cut after 200
// characters ("..."); ValueHex has the whole value when it is bytes.
type Entry struct {
	Key      string `json:"key"`
	Value    string `json:"value"`
	ValueHex string `json:"value_hex,omitempty"`
}

// Program is a program of the object, sorted by name.
type Program struct {
	Name    string `json:"name"`
	Section string `json:"section"`
	// Type is the library's ProgramType name: "XDP", "SocketFilter", ...
	Type string `json:"type"`
	// AttachType is the AttachType name, empty when the program type
	// has none.
	AttachType string `json:"attach_type,omitempty"`
	// AttachTo is the attach target (a kernel function, hook, ...).
	AttachTo string `json:"attach_to,omitempty"`
	// Instructions counts 8-byte instruction slots (a 64-bit immediate
	// load takes two), subprograms included: the kernel's count.
	Instructions int    `json:"instructions"`
	License      string `json:"license"`
	Flags        uint32 `json:"flags,omitempty"`
	// Maps are the maps the program references, Functions the
	// subprograms linked into it.
	Maps      []string `json:"maps,omitempty"`
	Functions []string `json:"functions,omitempty"`
	// Disassembly is filled with -d.
	Disassembly []*Instruction `json:"disassembly,omitempty"`
}

// Instruction is one disassembled instruction.
type Instruction struct {
	// Offset in 8-byte slots from the start of the program.
	Offset int `json:"offset"`
	// Function is set on the first instruction of the program and of
	// every subprogram.
	Function string `json:"function,omitempty"`
	// Source is "file.c:LINE: text" from BTF line info, set where the
	// source line changes.
	Source string `json:"source,omitempty"`
	Text   string `json:"text"`
}

// Variable is a global variable, sorted by name.
type Variable struct {
	Name    string `json:"name"`
	Section string `json:"section"`
	Offset  uint32 `json:"offset"`
	Size    uint32 `json:"size"`
	// Type is the BTF type in C syntax, empty without BTF.
	Type string `json:"type,omitempty"`
	// Constant is true for variables in read-only sections (.rodata).
	Constant bool `json:"constant"`
	// Value is decoded through BTF ("100", "\"abc\"", "{x: 1}"), hex bytes
	// without it; it is cut after 200 characters ("...").
	Value string `json:"value"`
	// Hex is the raw value in the object's byte order.
	Hex string `json:"hex"`
}

// GoType is one BTF type as a Go declaration.
type GoType struct {
	// Name is the C name, Kind the BTF kind ("struct", "union", "enum",
	// "typedef", "datasec").
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Go is the declaration, or empty with Error set.
	Go    string `json:"go,omitempty"`
	Error string `json:"error,omitempty"`
}

// LoadResult is the outcome of loading the object into the kernel.
type LoadResult struct {
	// OK is true when every requested program loaded.
	OK bool `json:"ok"`
	// Maps is the number of maps created.
	Maps     int             `json:"maps"`
	Programs []*ProgramStats `json:"programs,omitempty"`
	// Verifier is set when the verifier rejected a program.
	Verifier *VerifierFailure `json:"verifier,omitempty"`
	// Notes lists adjustments made to load a subset (-prog).
	Notes []string `json:"notes,omitempty"`
}

// ProgramStats are the verifier's statistics of one loaded program,
// parsed from the end of its log (log level stats). A field the kernel
// didn't report is zero.
type ProgramStats struct {
	Name string `json:"name"`
	// Processed is the number of instructions the verifier processed
	// ("processed N insns"), Limit its limit.
	Processed uint64 `json:"insns_processed"`
	Limit     uint64 `json:"insns_limit,omitempty"`
	// TotalStates, PeakStates and MaxStatesPerInsn are the verifier's
	// state counts.
	TotalStates      uint64 `json:"total_states"`
	PeakStates       uint64 `json:"peak_states"`
	MaxStatesPerInsn uint64 `json:"max_states_per_insn"`
	// TimeMicros is the verification time in microseconds.
	TimeMicros uint64 `json:"verification_time_usec"`
	// StackDepth is the stack use per function ("0+8").
	StackDepth string `json:"stack_depth,omitempty"`
	// Verified is the kernel's count of verified instructions from
	// BPF_OBJ_GET_INFO_BY_FD (Linux 5.16), 0 if not reported.
	Verified uint32 `json:"verified_insns,omitempty"`
}

// VerifierFailure describes a program the verifier rejected.
type VerifierFailure struct {
	// Program is the rejected program, when known.
	Program string `json:"program,omitempty"`
	// Cause is the error, in one line: it names the program, the
	// verifier's reason and, with line info, the source line.
	Cause string `json:"cause"`
	// Source is "file.c:LINE" of the rejected instruction and SourceLine
	// that line's text, when the object has line info.
	Source     string `json:"source,omitempty"`
	SourceLine string `json:"source_line,omitempty"`
	// Log is the whole verifier log (with -v); LogLines its length.
	Log      []string `json:"log,omitempty"`
	LogLines int      `json:"log_lines"`
	// Truncated says the log did not fit the largest buffer.
	Truncated bool `json:"log_truncated,omitempty"`
}

// RunResult is one BPF_PROG_TEST_RUN of a program.
type RunResult struct {
	Program string `json:"program"`
	// Return is the program's return value; ReturnName its meaning for
	// XDP ("XDP_PASS") and tc programs ("TC_ACT_OK").
	Return     uint32 `json:"return"`
	ReturnName string `json:"return_name,omitempty"`
	// DataIn and DataOut are hex; DataInNote says where the input came
	// from when no -data was given ("64-byte sample packet").
	DataIn     string `json:"data_in,omitempty"`
	DataInNote string `json:"data_in_note,omitempty"`
	DataOut    string `json:"data_out,omitempty"`
	CtxIn      string `json:"ctx_in,omitempty"`
	CtxOut     string `json:"ctx_out,omitempty"`
	Repeat     uint32 `json:"repeat"`
	// MeanNanos is the mean run time in nanoseconds. TimeSource says how
	// it was measured: "kernel" (by BPF_PROG_TEST_RUN around the program
	// alone) or "wall" (the bpf(2) call around the runs, for program
	// types whose test runner measures no time).
	MeanNanos  float64 `json:"mean_ns"`
	TimeSource string  `json:"time_source"`
	// After are the global variables and the contents of small maps
	// after the run.
	Variables []*Variable `json:"variables_after,omitempty"`
	Maps      []*MapDump  `json:"maps_after,omitempty"`
}

// MapDump are the first entries of a map after a run, as `map dump`
// reads them.
type MapDump struct {
	Name    string       `json:"name"`
	Entries []*DumpEntry `json:"entries"`
	// More says that the map holds more entries than listed.
	More bool `json:"more,omitempty"`
}
