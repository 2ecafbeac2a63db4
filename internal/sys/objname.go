package sys

// ObjName is the 16-byte, NUL-terminated name of a map or program
// (BPF_OBJ_NAME_LEN). The kernel accepts names since 4.15 and rejects a
// name with a character other than [A-Za-z0-9_.] (the dot since 5.2).
type ObjName [BPF_OBJ_NAME_LEN]byte

// NewObjName makes a name the kernel accepts from name: it drops every
// character outside [A-Za-z0-9_.] and keeps the first 15 of the rest,
// leaving room for the terminating NUL. It does not allocate.
func NewObjName(name string) ObjName {
	var n ObjName
	i := 0
	for j := 0; j < len(name) && i < len(n)-1; j++ {
		if c := name[j]; objNameChar(c) {
			n[i] = c
			i++
		}
	}
	return n
}

func objNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.'
}

// String returns the name up to its first NUL.
func (n ObjName) String() string {
	for i, c := range n {
		if c == 0 {
			return string(n[:i])
		}
	}
	return string(n[:])
}
