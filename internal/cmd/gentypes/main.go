// Command gentypes writes the root package's MapType, ProgramType and
// AttachType constants, with their String methods, from the enums of
// internal/cmd/uapi/bpf-uapi.h. The Go names are the library's API (they
// follow cilium/ebpf's); the values always come from the header. Kernel
// enumerators without a Go name in the tables below get one derived from
// their kernel name, so a newer header never loses a type.
//
// Usage: gentypes HEADER OUTPUT
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"go/format"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// enumSpec describes one kernel enum and the Go type it becomes.
type enumSpec struct {
	kernelEnum string // e.g. "bpf_map_type"
	goType     string
	prefix     string // stripped from kernel names to derive Go names
	goPrefix   string // prepended to derived names
	skip       []string
	names      [][2]string // kernel enumerator -> Go name, in API order
	doc        string
}

var enums = []enumSpec{
	{
		kernelEnum: "bpf_map_type",
		goType:     "MapType",
		prefix:     "BPF_MAP_TYPE_",
		skip:       []string{"BPF_MAP_TYPE_CGROUP_STORAGE_DEPRECATED", "BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE_DEPRECATED"},
		doc:        "the kernel's enum bpf_map_type",
		names: [][2]string{
			{"BPF_MAP_TYPE_UNSPEC", "UnspecifiedMap"},
			{"BPF_MAP_TYPE_HASH", "Hash"},
			{"BPF_MAP_TYPE_ARRAY", "Array"},
			{"BPF_MAP_TYPE_PROG_ARRAY", "ProgramArray"},
			{"BPF_MAP_TYPE_PERF_EVENT_ARRAY", "PerfEventArray"},
			{"BPF_MAP_TYPE_PERCPU_HASH", "PerCPUHash"},
			{"BPF_MAP_TYPE_PERCPU_ARRAY", "PerCPUArray"},
			{"BPF_MAP_TYPE_STACK_TRACE", "StackTrace"},
			{"BPF_MAP_TYPE_CGROUP_ARRAY", "CGroupArray"},
			{"BPF_MAP_TYPE_LRU_HASH", "LRUHash"},
			{"BPF_MAP_TYPE_LRU_PERCPU_HASH", "LRUCPUHash"},
			{"BPF_MAP_TYPE_LPM_TRIE", "LPMTrie"},
			{"BPF_MAP_TYPE_ARRAY_OF_MAPS", "ArrayOfMaps"},
			{"BPF_MAP_TYPE_HASH_OF_MAPS", "HashOfMaps"},
			{"BPF_MAP_TYPE_DEVMAP", "DevMap"},
			{"BPF_MAP_TYPE_SOCKMAP", "SockMap"},
			{"BPF_MAP_TYPE_CPUMAP", "CPUMap"},
			{"BPF_MAP_TYPE_XSKMAP", "XSKMap"},
			{"BPF_MAP_TYPE_SOCKHASH", "SockHash"},
			{"BPF_MAP_TYPE_CGROUP_STORAGE", "CGroupStorage"},
			{"BPF_MAP_TYPE_REUSEPORT_SOCKARRAY", "ReusePortSockArray"},
			{"BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE", "PerCPUCGroupStorage"},
			{"BPF_MAP_TYPE_QUEUE", "Queue"},
			{"BPF_MAP_TYPE_STACK", "Stack"},
			{"BPF_MAP_TYPE_SK_STORAGE", "SkStorage"},
			{"BPF_MAP_TYPE_DEVMAP_HASH", "DevMapHash"},
			{"BPF_MAP_TYPE_STRUCT_OPS", "StructOpsMap"},
			{"BPF_MAP_TYPE_RINGBUF", "RingBuf"},
			{"BPF_MAP_TYPE_INODE_STORAGE", "InodeStorage"},
			{"BPF_MAP_TYPE_TASK_STORAGE", "TaskStorage"},
			{"BPF_MAP_TYPE_BLOOM_FILTER", "BloomFilter"},
			{"BPF_MAP_TYPE_USER_RINGBUF", "UserRingbuf"},
			{"BPF_MAP_TYPE_CGRP_STORAGE", "CgroupStorage"},
			{"BPF_MAP_TYPE_ARENA", "Arena"},
		},
	},
	{
		kernelEnum: "bpf_prog_type",
		goType:     "ProgramType",
		prefix:     "BPF_PROG_TYPE_",
		doc:        "the kernel's enum bpf_prog_type",
		names: [][2]string{
			{"BPF_PROG_TYPE_UNSPEC", "UnspecifiedProgram"},
			{"BPF_PROG_TYPE_SOCKET_FILTER", "SocketFilter"},
			{"BPF_PROG_TYPE_KPROBE", "Kprobe"},
			{"BPF_PROG_TYPE_SCHED_CLS", "SchedCLS"},
			{"BPF_PROG_TYPE_SCHED_ACT", "SchedACT"},
			{"BPF_PROG_TYPE_TRACEPOINT", "TracePoint"},
			{"BPF_PROG_TYPE_XDP", "XDP"},
			{"BPF_PROG_TYPE_PERF_EVENT", "PerfEvent"},
			{"BPF_PROG_TYPE_CGROUP_SKB", "CGroupSKB"},
			{"BPF_PROG_TYPE_CGROUP_SOCK", "CGroupSock"},
			{"BPF_PROG_TYPE_LWT_IN", "LWTIn"},
			{"BPF_PROG_TYPE_LWT_OUT", "LWTOut"},
			{"BPF_PROG_TYPE_LWT_XMIT", "LWTXmit"},
			{"BPF_PROG_TYPE_SOCK_OPS", "SockOps"},
			{"BPF_PROG_TYPE_SK_SKB", "SkSKB"},
			{"BPF_PROG_TYPE_CGROUP_DEVICE", "CGroupDevice"},
			{"BPF_PROG_TYPE_SK_MSG", "SkMsg"},
			{"BPF_PROG_TYPE_RAW_TRACEPOINT", "RawTracepoint"},
			{"BPF_PROG_TYPE_CGROUP_SOCK_ADDR", "CGroupSockAddr"},
			{"BPF_PROG_TYPE_LWT_SEG6LOCAL", "LWTSeg6Local"},
			{"BPF_PROG_TYPE_LIRC_MODE2", "LircMode2"},
			{"BPF_PROG_TYPE_SK_REUSEPORT", "SkReuseport"},
			{"BPF_PROG_TYPE_FLOW_DISSECTOR", "FlowDissector"},
			{"BPF_PROG_TYPE_CGROUP_SYSCTL", "CGroupSysctl"},
			{"BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE", "RawTracepointWritable"},
			{"BPF_PROG_TYPE_CGROUP_SOCKOPT", "CGroupSockopt"},
			{"BPF_PROG_TYPE_TRACING", "Tracing"},
			{"BPF_PROG_TYPE_STRUCT_OPS", "StructOps"},
			{"BPF_PROG_TYPE_EXT", "Extension"},
			{"BPF_PROG_TYPE_LSM", "LSM"},
			{"BPF_PROG_TYPE_SK_LOOKUP", "SkLookup"},
			{"BPF_PROG_TYPE_SYSCALL", "Syscall"},
			{"BPF_PROG_TYPE_NETFILTER", "Netfilter"},
		},
	},
	{
		kernelEnum: "bpf_attach_type",
		goType:     "AttachType",
		prefix:     "BPF_",
		goPrefix:   "Attach",
		doc:        "the kernel's enum bpf_attach_type",
		names: [][2]string{
			{"BPF_CGROUP_INET_INGRESS", "AttachCGroupInetIngress"},
			{"BPF_CGROUP_INET_EGRESS", "AttachCGroupInetEgress"},
			{"BPF_CGROUP_INET_SOCK_CREATE", "AttachCGroupInetSockCreate"},
			{"BPF_CGROUP_SOCK_OPS", "AttachCGroupSockOps"},
			{"BPF_SK_SKB_STREAM_PARSER", "AttachSkSKBStreamParser"},
			{"BPF_SK_SKB_STREAM_VERDICT", "AttachSkSKBStreamVerdict"},
			{"BPF_CGROUP_DEVICE", "AttachCGroupDevice"},
			{"BPF_SK_MSG_VERDICT", "AttachSkMsgVerdict"},
			{"BPF_CGROUP_INET4_BIND", "AttachCGroupInet4Bind"},
			{"BPF_CGROUP_INET6_BIND", "AttachCGroupInet6Bind"},
			{"BPF_CGROUP_INET4_CONNECT", "AttachCGroupInet4Connect"},
			{"BPF_CGROUP_INET6_CONNECT", "AttachCGroupInet6Connect"},
			{"BPF_CGROUP_INET4_POST_BIND", "AttachCGroupInet4PostBind"},
			{"BPF_CGROUP_INET6_POST_BIND", "AttachCGroupInet6PostBind"},
			{"BPF_CGROUP_UDP4_SENDMSG", "AttachCGroupUDP4Sendmsg"},
			{"BPF_CGROUP_UDP6_SENDMSG", "AttachCGroupUDP6Sendmsg"},
			{"BPF_LIRC_MODE2", "AttachLircMode2"},
			{"BPF_FLOW_DISSECTOR", "AttachFlowDissector"},
			{"BPF_CGROUP_SYSCTL", "AttachCGroupSysctl"},
			{"BPF_CGROUP_UDP4_RECVMSG", "AttachCGroupUDP4Recvmsg"},
			{"BPF_CGROUP_UDP6_RECVMSG", "AttachCGroupUDP6Recvmsg"},
			{"BPF_CGROUP_GETSOCKOPT", "AttachCGroupGetsockopt"},
			{"BPF_CGROUP_SETSOCKOPT", "AttachCGroupSetsockopt"},
			{"BPF_TRACE_RAW_TP", "AttachTraceRawTp"},
			{"BPF_TRACE_FENTRY", "AttachTraceFEntry"},
			{"BPF_TRACE_FEXIT", "AttachTraceFExit"},
			{"BPF_MODIFY_RETURN", "AttachModifyReturn"},
			{"BPF_LSM_MAC", "AttachLSMMac"},
			{"BPF_TRACE_ITER", "AttachTraceIter"},
			{"BPF_CGROUP_INET4_GETPEERNAME", "AttachCgroupInet4GetPeername"},
			{"BPF_CGROUP_INET6_GETPEERNAME", "AttachCgroupInet6GetPeername"},
			{"BPF_CGROUP_INET4_GETSOCKNAME", "AttachCgroupInet4GetSockname"},
			{"BPF_CGROUP_INET6_GETSOCKNAME", "AttachCgroupInet6GetSockname"},
			{"BPF_XDP_DEVMAP", "AttachXDPDevMap"},
			{"BPF_CGROUP_INET_SOCK_RELEASE", "AttachCgroupInetSockRelease"},
			{"BPF_XDP_CPUMAP", "AttachXDPCPUMap"},
			{"BPF_SK_LOOKUP", "AttachSkLookup"},
			{"BPF_XDP", "AttachXDP"},
			{"BPF_SK_SKB_VERDICT", "AttachSkSKBVerdict"},
			{"BPF_SK_REUSEPORT_SELECT", "AttachSkReuseportSelect"},
			{"BPF_SK_REUSEPORT_SELECT_OR_MIGRATE", "AttachSkReuseportSelectOrMigrate"},
			{"BPF_PERF_EVENT", "AttachPerfEvent"},
			{"BPF_TRACE_KPROBE_MULTI", "AttachTraceKprobeMulti"},
			{"BPF_TRACE_KPROBE_SESSION", "AttachTraceKprobeSession"},
			{"BPF_LSM_CGROUP", "AttachLSMCgroup"},
			{"BPF_STRUCT_OPS", "AttachStructOps"},
			{"BPF_NETFILTER", "AttachNetfilter"},
			{"BPF_TCX_INGRESS", "AttachTCXIngress"},
			{"BPF_TCX_EGRESS", "AttachTCXEgress"},
			{"BPF_TRACE_UPROBE_MULTI", "AttachTraceUprobeMulti"},
			{"BPF_CGROUP_UNIX_CONNECT", "AttachCgroupUnixConnect"},
			{"BPF_CGROUP_UNIX_SENDMSG", "AttachCgroupUnixSendmsg"},
			{"BPF_CGROUP_UNIX_RECVMSG", "AttachCgroupUnixRecvmsg"},
			{"BPF_CGROUP_UNIX_GETPEERNAME", "AttachCgroupUnixGetpeername"},
			{"BPF_CGROUP_UNIX_GETSOCKNAME", "AttachCgroupUnixGetsockname"},
			{"BPF_NETKIT_PRIMARY", "AttachNetkitPrimary"},
			{"BPF_NETKIT_PEER", "AttachNetkitPeer"},
		},
	},
}

type enumerator struct {
	name  string
	value uint64
}

var enumeratorLine = regexp.MustCompile(`^\s+([A-Za-z0-9_]+) = (-?\d+)(?:U?L?L?),$`)

// parseEnums reads every named enum of the header.
func parseEnums(header []byte) (map[string][]enumerator, error) {
	out := map[string][]enumerator{}
	var cur string
	sc := bufio.NewScanner(bytes.NewReader(header))
	for sc.Scan() {
		line := sc.Text()
		if line == "enum {" { // anonymous: flag values, not needed here
			cur = "-"
			continue
		}
		if strings.HasPrefix(line, "enum ") && strings.HasSuffix(line, " {") {
			cur = strings.TrimSuffix(strings.TrimPrefix(line, "enum "), " {")
			continue
		}
		if line == "};" {
			cur = ""
			continue
		}
		if cur == "" || cur == "-" {
			continue
		}
		m := enumeratorLine.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("enum %s: can't parse %q", cur, line)
		}
		v, err := strconv.ParseInt(m[2], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("enum %s: %w", cur, err)
		}
		out[cur] = append(out[cur], enumerator{m[1], uint64(v)})
	}
	return out, sc.Err()
}

// camel derives a Go name from the tail of a kernel enumerator.
func camel(s string) string {
	var b strings.Builder
	for _, part := range strings.Split(strings.ToLower(s), "_") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// Generate returns the formatted Go source for the header.
func Generate(header []byte) ([]byte, error) {
	all, err := parseEnums(header)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	fmt.Fprintln(&buf, "// Code generated by internal/cmd/gentypes from internal/cmd/uapi/bpf-uapi.h; DO NOT EDIT.")
	fmt.Fprintln(&buf)
	fmt.Fprintln(&buf, "package ebpf")
	for _, spec := range enums {
		values, ok := all[spec.kernelEnum]
		if !ok {
			return nil, fmt.Errorf("header has no enum %s", spec.kernelEnum)
		}
		goNames := map[string]string{}
		for _, n := range spec.names {
			goNames[n[0]] = n[1]
		}
		skip := map[string]bool{}
		for _, s := range spec.skip {
			skip[s] = true
		}
		type constant struct {
			goName, kernelName string
			value              uint64
		}
		var consts []constant
		seen := map[string]bool{}
		for _, e := range values {
			if skip[e.name] || strings.HasPrefix(e.name, "__") {
				continue
			}
			gn, ok := goNames[e.name]
			if !ok {
				gn = spec.goPrefix + camel(strings.TrimPrefix(e.name, spec.prefix))
			}
			seen[e.name] = true
			consts = append(consts, constant{gn, e.name, e.value})
		}
		for _, n := range spec.names {
			if !seen[n[0]] {
				return nil, fmt.Errorf("enum %s lacks %s (Go name %s)", spec.kernelEnum, n[0], n[1])
			}
		}
		fmt.Fprintf(&buf, "\n// Values of %s, %s.\nconst (\n", spec.goType, spec.doc)
		for _, c := range consts {
			fmt.Fprintf(&buf, "\t%s %s = %d // %s\n", c.goName, spec.goType, c.value, c.kernelName)
		}
		fmt.Fprintln(&buf, ")")
		fmt.Fprintf(&buf, "\n// String returns the Go name of the constant, or %s(N) for unknown values.\n", spec.goType)
		recv := strings.ToLower(spec.goType[:1])
		fmt.Fprintf(&buf, "func (%s %s) String() string {\n\tswitch %s {\n", recv, spec.goType, recv)
		for _, c := range consts {
			fmt.Fprintf(&buf, "\tcase %s:\n\t\treturn %q\n", c.goName, c.goName)
		}
		fmt.Fprintf(&buf, "\t}\n\treturn \"%s(\" + itoa(uint64(%s)) + \")\"\n}\n", spec.goType, recv)
	}
	return format.Source(buf.Bytes())
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gentypes HEADER OUTPUT")
		os.Exit(2)
	}
	header, err := os.ReadFile(os.Args[1])
	if err == nil {
		var out []byte
		if out, err = Generate(header); err == nil {
			err = os.WriteFile(os.Args[2], out, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gentypes:", err)
		os.Exit(1)
	}
}
