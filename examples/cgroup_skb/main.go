package main

//go:generate go tool bpf2go -tags linux bpf cgroup_skb.c -- -I../headers -nostdinc -Wall -Werror

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/bpfkit/ebpf"
	"github.com/bpfkit/ebpf/link"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "cgroup_skb:", err)
		os.Exit(1)
	}
}

func run() error {
	cgroup := flag.String("cgroup", "", "cgroup v2 directory to watch (default: the root of the cgroup v2 hierarchy)")
	flag.Parse()
	if *cgroup == "" {
		root, err := cgroup2Root()
		if err != nil {
			return err
		}
		*cgroup = root
	}

	var objs bpfObjects
	if err := loadBpfObjects(&objs, nil); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	defer objs.Close()

	l, err := link.AttachCgroup(link.CgroupOptions{
		Path:    *cgroup,
		Attach:  ebpf.AttachCGroupInetEgress,
		Program: objs.CountEgress,
	})
	if err != nil {
		return err
	}
	defer l.Close()
	fmt.Printf("Counting packets sent from %s; Ctrl-C to stop.\n", *cgroup)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		var count uint64
		if err := objs.EgressPackets.Lookup(uint32(0), &count); err != nil {
			return fmt.Errorf("read count: %w", err)
		}
		fmt.Printf("%d packets sent\n", count)
	}
}

// cgroup2Root is where the cgroup v2 hierarchy is mounted: /sys/fs/cgroup
// on most systems, /sys/fs/cgroup/unified on hybrid ones.
func cgroup2Root() (string, error) {
	mounts, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(mounts), "\n") {
		// device mountpoint type options ...
		if fields := strings.Fields(line); len(fields) > 2 && fields[2] == "cgroup2" {
			return fields[1], nil
		}
	}
	return "", errors.New("no cgroup v2 file system mounted")
}
