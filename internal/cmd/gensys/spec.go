package main

// This file is the generator's configuration: which Go structs to make from
// which parts of the header, which __u64 members are user pointers, and which
// members carry one of the typed enums. Offsets and sizes are never written
// here; they come from the header.

// structSpec describes one generated Go struct.
type structSpec struct {
	goName string
	// root is the C type the struct is carved from.
	root string
	// member selects a part of union bpf_attr: the name of a named member
	// (link_create) or of a field that only one anonymous member has.
	member string
	// choose picks union alternatives by their path from root, as C
	// designators spell it ("link_create.kprobe_multi"); an anonymous
	// struct alternative is picked by the path of one of its fields. A
	// union without a chosen alternative uses its first one.
	choose []string
	// pad lists the paths of aggregates whose anonymous unions become
	// opaque padding instead of one alternative ("" is root).
	pad []string
	// upto ends the struct after this member (path from root); the size
	// is then rounded up to the member's alignment.
	upto string
	// cmd is the bpf(2) command of the wrapper function (attr structs).
	cmd string
	// wrapper names the function; default is goName without "Attr".
	wrapper string
	// fd: the command returns a new file descriptor.
	fd bool
	// info: the struct is read with BPF_OBJ_GET_INFO_BY_FD.
	info bool
	// link and perf: the link type (and perf event types) whose union
	// member a bpf_link_info variant lays out; ObjInfo checks them.
	link string
	perf []string
	doc  string
}

const (
	attr     = "union bpf_attr"
	progInfo = "struct bpf_prog_info"
	mapInfo  = "struct bpf_map_info"
	btfInfo  = "struct bpf_btf_info"
	linkInfo = "struct bpf_link_info"
	tokInfo  = "struct bpf_token_info"
)

var attrSpecs = []structSpec{
	{goName: "MapCreateAttr", root: attr, member: "map_type", cmd: "BPF_MAP_CREATE", fd: true},
	{goName: "MapLookupElemAttr", root: attr, member: "key", choose: []string{"value"}, cmd: "BPF_MAP_LOOKUP_ELEM"},
	{goName: "MapUpdateElemAttr", root: attr, member: "key", choose: []string{"value"}, cmd: "BPF_MAP_UPDATE_ELEM"},
	{goName: "MapDeleteElemAttr", root: attr, member: "key", choose: []string{"value"}, cmd: "BPF_MAP_DELETE_ELEM"},
	{goName: "MapGetNextKeyAttr", root: attr, member: "key", choose: []string{"next_key"}, cmd: "BPF_MAP_GET_NEXT_KEY"},
	{goName: "MapLookupAndDeleteElemAttr", root: attr, member: "key", choose: []string{"value"}, cmd: "BPF_MAP_LOOKUP_AND_DELETE_ELEM"},
	{goName: "MapFreezeAttr", root: attr, member: "key", upto: "map_fd", cmd: "BPF_MAP_FREEZE"},
	{goName: "MapLookupBatchAttr", root: attr, member: "batch", cmd: "BPF_MAP_LOOKUP_BATCH"},
	{goName: "MapLookupAndDeleteBatchAttr", root: attr, member: "batch", cmd: "BPF_MAP_LOOKUP_AND_DELETE_BATCH"},
	{goName: "MapUpdateBatchAttr", root: attr, member: "batch", cmd: "BPF_MAP_UPDATE_BATCH"},
	{goName: "MapDeleteBatchAttr", root: attr, member: "batch", cmd: "BPF_MAP_DELETE_BATCH"},

	{goName: "ProgLoadAttr", root: attr, member: "insns", cmd: "BPF_PROG_LOAD", fd: true,
		doc: "The kernel fills LogTrueSize (since 6.4) with the log size the verifier needed."},
	{goName: "ProgRunAttr", root: attr, member: "test", cmd: "BPF_PROG_TEST_RUN", wrapper: "ProgRun"},
	{goName: "ProgBindMapAttr", root: attr, member: "prog_bind_map", cmd: "BPF_PROG_BIND_MAP"},

	{goName: "ObjPinAttr", root: attr, member: "pathname", cmd: "BPF_OBJ_PIN"},
	{goName: "ObjGetAttr", root: attr, member: "pathname", cmd: "BPF_OBJ_GET", fd: true},
	{goName: "ObjGetInfoByFdAttr", root: attr, member: "info", cmd: "BPF_OBJ_GET_INFO_BY_FD",
		doc: "Prefer ObjInfo, which copes with kernels whose info structs are smaller or larger than ours."},

	{goName: "ProgGetNextIdAttr", root: attr, member: "next_id", choose: []string{"start_id"}, cmd: "BPF_PROG_GET_NEXT_ID"},
	{goName: "MapGetNextIdAttr", root: attr, member: "next_id", choose: []string{"start_id"}, cmd: "BPF_MAP_GET_NEXT_ID"},
	{goName: "BtfGetNextIdAttr", root: attr, member: "next_id", choose: []string{"start_id"}, cmd: "BPF_BTF_GET_NEXT_ID"},
	{goName: "LinkGetNextIdAttr", root: attr, member: "next_id", choose: []string{"start_id"}, cmd: "BPF_LINK_GET_NEXT_ID"},
	{goName: "ProgGetFdByIdAttr", root: attr, member: "next_id", choose: []string{"prog_id"}, cmd: "BPF_PROG_GET_FD_BY_ID", fd: true},
	{goName: "MapGetFdByIdAttr", root: attr, member: "next_id", choose: []string{"map_id"}, cmd: "BPF_MAP_GET_FD_BY_ID", fd: true},
	{goName: "BtfGetFdByIdAttr", root: attr, member: "next_id", choose: []string{"btf_id"}, cmd: "BPF_BTF_GET_FD_BY_ID", fd: true},
	{goName: "LinkGetFdByIdAttr", root: attr, member: "next_id", choose: []string{"link_id"}, cmd: "BPF_LINK_GET_FD_BY_ID", fd: true},

	{goName: "ProgAttachAttr", root: attr, member: "attach_bpf_fd", cmd: "BPF_PROG_ATTACH"},
	{goName: "ProgDetachAttr", root: attr, member: "attach_bpf_fd", cmd: "BPF_PROG_DETACH"},
	{goName: "ProgQueryAttr", root: attr, member: "query", choose: []string{"query.count"}, cmd: "BPF_PROG_QUERY"},
	{goName: "RawTracepointOpenAttr", root: attr, member: "raw_tracepoint", cmd: "BPF_RAW_TRACEPOINT_OPEN", fd: true},
	{goName: "TaskFdQueryAttr", root: attr, member: "task_fd_query", cmd: "BPF_TASK_FD_QUERY"},

	{goName: "BtfLoadAttr", root: attr, member: "btf_log_buf", cmd: "BPF_BTF_LOAD", fd: true},

	{goName: "LinkCreateAttr", root: attr, member: "link_create", choose: []string{"link_create.target_btf_id"}, cmd: "BPF_LINK_CREATE", fd: true,
		doc: "The LinkCreate*Attr types lay out the other members of link_create's union."},
	{goName: "LinkCreateIterAttr", root: attr, member: "link_create", choose: []string{"link_create.iter_info"}, cmd: "BPF_LINK_CREATE", fd: true},
	{goName: "LinkCreatePerfEventAttr", root: attr, member: "link_create", choose: []string{"link_create.perf_event"}, cmd: "BPF_LINK_CREATE", fd: true},
	{goName: "LinkCreateKprobeMultiAttr", root: attr, member: "link_create", choose: []string{"link_create.kprobe_multi"}, cmd: "BPF_LINK_CREATE", fd: true},
	{goName: "LinkCreateTracingAttr", root: attr, member: "link_create", choose: []string{"link_create.tracing"}, cmd: "BPF_LINK_CREATE", fd: true},
	{goName: "LinkCreateNetfilterAttr", root: attr, member: "link_create", choose: []string{"link_create.netfilter"}, cmd: "BPF_LINK_CREATE", fd: true},
	{goName: "LinkCreateTcxAttr", root: attr, member: "link_create", choose: []string{"link_create.tcx"}, cmd: "BPF_LINK_CREATE", fd: true},
	{goName: "LinkCreateUprobeMultiAttr", root: attr, member: "link_create", choose: []string{"link_create.uprobe_multi"}, cmd: "BPF_LINK_CREATE", fd: true},
	{goName: "LinkCreateNetkitAttr", root: attr, member: "link_create", choose: []string{"link_create.netkit"}, cmd: "BPF_LINK_CREATE", fd: true},
	{goName: "LinkCreateCgroupAttr", root: attr, member: "link_create", choose: []string{"link_create.cgroup"}, cmd: "BPF_LINK_CREATE", fd: true},
	{goName: "LinkUpdateAttr", root: attr, member: "link_update", cmd: "BPF_LINK_UPDATE"},
	{goName: "LinkDetachAttr", root: attr, member: "link_detach", cmd: "BPF_LINK_DETACH"},
	{goName: "IterCreateAttr", root: attr, member: "iter_create", cmd: "BPF_ITER_CREATE", fd: true},
	{goName: "EnableStatsAttr", root: attr, member: "enable_stats", cmd: "BPF_ENABLE_STATS", fd: true,
		doc: "Statistics stay enabled until the returned file descriptor is closed."},
	{goName: "TokenCreateAttr", root: attr, member: "token_create", cmd: "BPF_TOKEN_CREATE", fd: true},
}

var infoSpecs = []structSpec{
	{goName: "ProgInfo", root: progInfo, info: true},
	{goName: "MapInfo", root: mapInfo, info: true},
	{goName: "BtfInfo", root: btfInfo, info: true},
	{goName: "TokenInfo", root: tokInfo, info: true},
	{goName: "LinkInfo", root: linkInfo, pad: []string{""}, info: true,
		doc: "The *LinkInfo types lay out the members of its union, one per link type. ObjInfo refuses a variant that does not match the link's type."},
	{goName: "RawTracepointLinkInfo", root: linkInfo, link: "BPF_LINK_TYPE_RAW_TRACEPOINT", choose: []string{"raw_tracepoint"}, info: true},
	{goName: "TracingLinkInfo", root: linkInfo, link: "BPF_LINK_TYPE_TRACING", choose: []string{"tracing"}, info: true},
	{goName: "CgroupLinkInfo", root: linkInfo, link: "BPF_LINK_TYPE_CGROUP", choose: []string{"cgroup"}, info: true},
	{goName: "IterLinkInfo", root: linkInfo, link: "BPF_LINK_TYPE_ITER", choose: []string{"iter", "iter.map", "iter.cgroup"}, info: true,
		doc: "IterTaskLinkInfo has the task variant of the iterator's target."},
	{goName: "IterTaskLinkInfo", root: linkInfo, link: "BPF_LINK_TYPE_ITER", choose: []string{"iter", "iter.map", "iter.task"}, info: true},
	{goName: "NetNsLinkInfo", root: linkInfo, link: "BPF_LINK_TYPE_NETNS", choose: []string{"netns"}, info: true},
	{goName: "XdpLinkInfo", root: linkInfo, link: "BPF_LINK_TYPE_XDP", choose: []string{"xdp"}, info: true},
	{goName: "StructOpsLinkInfo", root: linkInfo, link: "BPF_LINK_TYPE_STRUCT_OPS", choose: []string{"struct_ops"}, info: true},
	{goName: "NetfilterLinkInfo", root: linkInfo, link: "BPF_LINK_TYPE_NETFILTER", choose: []string{"netfilter"}, info: true},
	{goName: "KprobeMultiLinkInfo", root: linkInfo, link: "BPF_LINK_TYPE_KPROBE_MULTI", choose: []string{"kprobe_multi"}, info: true},
	{goName: "UprobeMultiLinkInfo", root: linkInfo, link: "BPF_LINK_TYPE_UPROBE_MULTI", choose: []string{"uprobe_multi"}, info: true},
	{goName: "PerfEventLinkInfo", root: linkInfo, link: "BPF_LINK_TYPE_PERF_EVENT", choose: []string{"perf_event"}, pad: []string{"perf_event"}, info: true,
		doc: "KprobeLinkInfo, UprobeLinkInfo, TracepointLinkInfo and EventLinkInfo lay out its union; pick the one that matches PerfEventType."},
	{goName: "KprobeLinkInfo", root: linkInfo, link: "BPF_LINK_TYPE_PERF_EVENT", perf: []string{"BPF_PERF_EVENT_KPROBE", "BPF_PERF_EVENT_KRETPROBE"}, choose: []string{"perf_event", "perf_event.kprobe"}, info: true},
	{goName: "UprobeLinkInfo", root: linkInfo, link: "BPF_LINK_TYPE_PERF_EVENT", perf: []string{"BPF_PERF_EVENT_UPROBE", "BPF_PERF_EVENT_URETPROBE"}, choose: []string{"perf_event", "perf_event.uprobe"}, info: true},
	{goName: "TracepointLinkInfo", root: linkInfo, link: "BPF_LINK_TYPE_PERF_EVENT", perf: []string{"BPF_PERF_EVENT_TRACEPOINT"}, choose: []string{"perf_event", "perf_event.tracepoint"}, info: true},
	{goName: "EventLinkInfo", root: linkInfo, link: "BPF_LINK_TYPE_PERF_EVENT", perf: []string{"BPF_PERF_EVENT_EVENT"}, choose: []string{"perf_event", "perf_event.event"}, info: true},
	{goName: "TcxLinkInfo", root: linkInfo, link: "BPF_LINK_TYPE_TCX", choose: []string{"tcx"}, info: true},
	{goName: "NetkitLinkInfo", root: linkInfo, link: "BPF_LINK_TYPE_NETKIT", choose: []string{"netkit"}, info: true},
	{goName: "SockmapLinkInfo", root: linkInfo, link: "BPF_LINK_TYPE_SOCKMAP", choose: []string{"sockmap"}, info: true},

	{goName: "FuncInfo", root: "struct bpf_func_info",
		doc: "It is one record of ProgLoadAttr.FuncInfo and ProgInfo.FuncInfo."},
	{goName: "LineInfo", root: "struct bpf_line_info",
		doc: "It is one record of ProgLoadAttr.LineInfo and ProgInfo.LineInfo."},
}

// pointers lists the __u64 members that carry user space addresses
// (__aligned_u64 in the kernel's header; BTF does not keep the attribute).
// They become Pointer so that the Go memory they reference stays alive.
var pointers = map[string][]string{
	attr: {
		"excl_prog_hash",
		"key", "value", "next_key",
		"batch.in_batch", "batch.out_batch", "batch.keys", "batch.values",
		"insns", "license", "log_buf", "func_info", "line_info", "fd_array", "core_relos", "signature",
		"pathname",
		"test.data_in", "test.data_out", "test.ctx_in", "test.ctx_out",
		"info.info",
		"query.prog_ids", "query.prog_attach_flags", "query.link_ids", "query.link_attach_flags",
		"raw_tracepoint.name",
		"btf", "btf_log_buf",
		"task_fd_query.buf",
		"link_create.iter_info",
		"link_create.kprobe_multi.syms", "link_create.kprobe_multi.addrs", "link_create.kprobe_multi.cookies",
		"link_create.uprobe_multi.path", "link_create.uprobe_multi.offsets",
		"link_create.uprobe_multi.ref_ctr_offsets", "link_create.uprobe_multi.cookies",
	},
	progInfo: {
		"jited_prog_insns", "xlated_prog_insns", "map_ids", "jited_ksyms", "jited_func_lens",
		"func_info", "line_info", "jited_line_info", "prog_tags",
	},
	mapInfo: {"hash"},
	btfInfo: {"btf", "name"},
	linkInfo: {
		"raw_tracepoint.tp_name", "iter.target_name",
		"kprobe_multi.addrs", "kprobe_multi.cookies",
		"uprobe_multi.path", "uprobe_multi.offsets", "uprobe_multi.ref_ctr_offsets", "uprobe_multi.cookies",
		"perf_event.uprobe.file_name", "perf_event.kprobe.func_name", "perf_event.tracepoint.tp_name",
	},
}

// typedByName gives members of these names a Go type other than their
// integer type, wherever they appear.
var typedByName = map[string]string{
	"map_type":             "MapType",
	"prog_type":            "ProgType",
	"attach_type":          "AttachType",
	"expected_attach_type": "AttachType",
	"map_name":             "ObjName",
	"prog_name":            "ObjName",
}

// typedByPath does the same for single members, by path from their root.
var typedByPath = map[string]map[string]string{
	attr: {
		"enable_stats.type":     "StatsType",
		"task_fd_query.fd_type": "TaskFdType",
	},
	progInfo: {"type": "ProgType", "name": "ObjName"},
	mapInfo:  {"type": "MapType", "name": "ObjName"},
	linkInfo: {
		"type":              "LinkType",
		"perf_event.type":   "PerfEventType",
		"iter.cgroup.order": "CgroupIterOrder",
	},
}

// enumTypes maps the kernel's enums to typed Go constants.
var enumTypes = []struct{ c, goName, doc string }{
	{"bpf_cmd", "Cmd", "Cmd is a bpf(2) command (enum bpf_cmd)."},
	{"bpf_map_type", "MapType", "MapType is a kind of map (enum bpf_map_type)."},
	{"bpf_prog_type", "ProgType", "ProgType is a kind of program (enum bpf_prog_type)."},
	{"bpf_attach_type", "AttachType", "AttachType is a hook a program attaches to (enum bpf_attach_type)."},
	{"bpf_link_type", "LinkType", "LinkType is a kind of link (enum bpf_link_type)."},
	{"bpf_perf_event_type", "PerfEventType", "PerfEventType says what a perf event link is attached to (enum bpf_perf_event_type)."},
	{"bpf_stats_type", "StatsType", "StatsType is a statistic BPF_ENABLE_STATS turns on (enum bpf_stats_type)."},
	{"bpf_task_fd_type", "TaskFdType", "TaskFdType is what BPF_TASK_FD_QUERY found behind a file descriptor (enum bpf_task_fd_type)."},
	{"bpf_cgroup_iter_order", "CgroupIterOrder", "CgroupIterOrder is the walk order of a cgroup iterator (enum bpf_cgroup_iter_order)."},
}

// flagPattern selects the untyped constants (from anonymous enums and
// #defines) that bpf(2) callers use: flags, update modes, sizes.
const flagPattern = `^BPF_(F_[A-Z0-9_]+|ANY|NOEXIST|EXIST|OBJ_NAME_LEN|TAG_SIZE|BUILD_ID_SIZE)$`

// cmdVersions is the first kernel with each command, for doc comments.
var cmdVersions = map[string]string{
	"BPF_MAP_CREATE":                  "3.18",
	"BPF_MAP_LOOKUP_ELEM":             "3.18",
	"BPF_MAP_UPDATE_ELEM":             "3.18",
	"BPF_MAP_DELETE_ELEM":             "3.18",
	"BPF_MAP_GET_NEXT_KEY":            "3.18",
	"BPF_PROG_LOAD":                   "3.18",
	"BPF_OBJ_PIN":                     "4.4",
	"BPF_OBJ_GET":                     "4.4",
	"BPF_PROG_ATTACH":                 "4.10",
	"BPF_PROG_DETACH":                 "4.10",
	"BPF_PROG_TEST_RUN":               "4.12",
	"BPF_PROG_GET_NEXT_ID":            "4.13",
	"BPF_MAP_GET_NEXT_ID":             "4.13",
	"BPF_PROG_GET_FD_BY_ID":           "4.13",
	"BPF_MAP_GET_FD_BY_ID":            "4.13",
	"BPF_OBJ_GET_INFO_BY_FD":          "4.13",
	"BPF_PROG_QUERY":                  "4.15",
	"BPF_RAW_TRACEPOINT_OPEN":         "4.17",
	"BPF_BTF_LOAD":                    "4.18",
	"BPF_BTF_GET_FD_BY_ID":            "4.18",
	"BPF_TASK_FD_QUERY":               "4.18",
	"BPF_MAP_LOOKUP_AND_DELETE_ELEM":  "4.20",
	"BPF_MAP_FREEZE":                  "5.2",
	"BPF_BTF_GET_NEXT_ID":             "5.4",
	"BPF_MAP_LOOKUP_BATCH":            "5.6",
	"BPF_MAP_LOOKUP_AND_DELETE_BATCH": "5.6",
	"BPF_MAP_UPDATE_BATCH":            "5.6",
	"BPF_MAP_DELETE_BATCH":            "5.6",
	"BPF_LINK_CREATE":                 "5.7",
	"BPF_LINK_UPDATE":                 "5.7",
	"BPF_LINK_GET_FD_BY_ID":           "5.8",
	"BPF_LINK_GET_NEXT_ID":            "5.8",
	"BPF_ENABLE_STATS":                "5.8",
	"BPF_ITER_CREATE":                 "5.8",
	"BPF_LINK_DETACH":                 "5.9",
	"BPF_PROG_BIND_MAP":               "5.10",
	"BPF_TOKEN_CREATE":                "6.9",
}
