package main

import (
	"fmt"
	"testing"

	"github.com/bpfkit/ebpf/examples/internal/exampletest"
)

func TestMain(m *testing.M) { exampletest.Main(m, run) }

func TestTCPRTT(t *testing.T) {
	exampletest.InNetns(t, func() {
		ex := exampletest.Start(t)
		ex.WaitFor(`^Reporting RTTs of closed TCP connections`, nil)
		client, server := exampletest.TCPExchange(t)
		ex.WaitFor(fmt.Sprintf(`^127\.0\.0\.1:%d -> 127\.0\.0\.1:%d srtt [0-9]+us$`, client, server), nil)
		ex.Stop()
	})
}
