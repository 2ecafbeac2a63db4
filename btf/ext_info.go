package btf

// ExtInfos is a placeholder.
type ExtInfos struct{}

func loadExtInfos(data []byte, spec *Spec) (*ExtInfos, error) { return nil, nil }
