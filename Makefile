# The two commands of the README:
#   go run ./cmd/bpfobj     the main job: inspect, load and run a BPF object
#   make test               vet, then every test with the race detector
#
# As root, `make test` also runs the kernel tests; without root they skip and
# say why. `.ci/run` installs the Debian packages the tests compare against
# (clang-19, llvm-19, bpftool) and then runs `make test`.

GO ?= go
CLANG ?= clang-19
TESTFLAGS ?=

.PHONY: test testdata generate bench vmtest deps linktest

test:
	$(GO) vet ./...
	$(GO) test -race -timeout 45m $(TESTFLAGS) ./...
	# Everything builds for a 32-bit platform; the wire layouts hold there,
	# checked against the running 64-bit kernel.
	# (.ci/test32.sh skips the run, saying so, on kernels without IA32
	# emulation.)
	GO=$(GO) ./.ci/test32.sh

# Rebuild the committed test objects (testdata/*-el.elf, *-eb.elf) from their
# C sources. The output is reproducible byte for byte.
testdata:
	$(MAKE) -C testdata CLANG=$(CLANG)
	$(GO) generate ./cmd/bpfobj

# Regenerate code derived from internal/cmd/uapi/bpf-uapi.h, and the
# examples' bindings (bpf2go with $(CLANG)). Tests fail when the committed
# output is stale.
generate:
	BPF2GO_CC=$(CLANG) $(GO) generate ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# The static linker against bpftool gen object on the kernel's multi-file
# selftests and samples/bpf's xdp_sample users: fetches linux-source-6.1
# (apt-get download, nothing installed) into .linktest/ and builds them once.
linktest:
	./.ci/linktest-objs.sh
	$(GO) test -count=1 -run 'TestLink' -v . > .linktest/test.log 2>&1; status=$$?; \
	grep -E '^ *(--- |ok|FAIL|PASS)|programs,|: returned|: loaded|: error:|outputs:|output:' .linktest/test.log; exit $$status

# Boot other kernels under qemu and run the test binaries there.
vmtest:
	$(GO) run ./internal/cmd/vmtest $(VMTESTFLAGS)

# Install the Debian packages the tests and test objects need.
deps:
	./.ci/deps.sh
