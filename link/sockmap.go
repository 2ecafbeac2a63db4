package link

// sockmapLink is a BPF_LINK_TYPE_SOCKMAP link (6.10): an sk_skb or sk_msg
// program attached to a sockmap or sockhash with BPF_LINK_CREATE. Create
// one with AttachRawLink (Target: the map's descriptor, Attach:
// AttachSkSKBStreamParser, AttachSkSKBStreamVerdict, AttachSkSKBVerdict or
// AttachSkMsgVerdict); RawAttachProgram attaches without a link on older
// kernels. Update replaces the program.
type sockmapLink struct {
	RawLink
}
