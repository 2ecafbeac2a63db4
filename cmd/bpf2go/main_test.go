package main

import (
	"testing"

	"github.com/bpfkit/ebpf/internal/testutils"
)

func TestMain(m *testing.M) { testutils.TestMain(m) }
