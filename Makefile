# entra-quickstart: `make demo` runs the whole journey against the built-in emulator,
# `make test` runs every test (installing what the tests need first).
GO       ?= go
BIN      := bin/entra-quickstart
PKGS     := ./...
FUZZTIME ?= 5s
# One cold compile of msgraph-sdk-go/models needs ~4.5 GB: keep parallel package builds low on
# small machines, and give the whole suite room on 2 cores.
TESTFLAGS ?= -p 2 -timeout 30m
# Every package's tests run under the race detector, so a data race fails `make test`
# (go test exits non-zero when the detector reports one). Measured on 2 shared cores, warm build
# cache: go test -p 2 ./... 6m19s, with -race 7m12s; most of the time is the CLI's end-to-end
# tests, whose child processes are not instrumented. RACE= turns it off for a quick run.
RACE ?= -race

.PHONY: pin-samples all build test test-deps vet unit fuzz demo demo-smoke bench bench-go bench-smoke lint reliability clean

all: build

build:
	$(GO) build -ldflags "-s -w" -o $(BIN) ./cmd/entra-quickstart

test-deps:
	@scripts/test-deps.sh

vet:
	$(GO) vet $(PKGS)

unit:
	$(GO) test $(RACE) $(TESTFLAGS) $(PKGS)

fuzz:
	@FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

# Everything: vet and staticcheck, every test (browser, Node and Python peers included), each
# fuzz target briefly, the benchmark harness and `make demo` once.
test: test-deps lint fuzz bench-smoke demo-smoke unit

# The whole journey against the built-in emulator: register the app, write the config, sign the
# emulator's demo user in and out. In a terminal the wizard asks; otherwise DEMO_SAMPLE is used.
DEMO_SAMPLE ?= node-workforce
demo: build
	@mkdir -p bin/demo
	@if [ -t 0 ] && [ -t 2 ]; then \
		cd bin/demo && ../entra-quickstart init --emulator --auto-sign-in; \
	else \
		cd bin/demo && ../entra-quickstart init --emulator --auto-sign-in --no-input --yes --sample $(DEMO_SAMPLE); \
	fi

# `make demo` itself, as a newcomer without a terminal runs it, with a config folder of its own
# so that it leaves nothing in the user's: it must end with a passed sign-in check.
demo-smoke:
	@home=$$(mktemp -d) && trap 'rm -rf "$$home"' EXIT && \
		ENTRA_QUICKSTART_HOME="$$home" $(MAKE) --no-print-directory demo </dev/null

# One table (BENCHMARKS.md): single app vs its round-trip minimum and Configure.ps1's calls, the
# same job side by side with the CLI for Microsoft 365 (m365, from testdata/node: make test-deps),
# a 100-attendee lab under Graph's scaled budget, the journey, the binary. Loopback only.
bench: build test-deps
	$(GO) run ./internal/bench/table -bin $(BIN)

# Every Go benchmark once (the table's harness is internal/bench).
bench-go:
	$(GO) test -run '^$$' -bench . -benchtime 1x $(PKGS)

# The benchmark harness in its short mode, so that it cannot rot; the numbers are not compared.
bench-smoke: build test-deps
	$(GO) test -short -run '^$$' -bench . -benchtime 1x ./internal/bench ./provision
	$(GO) run ./internal/bench/table -short -bin $(BIN)

# go vet and staticcheck (the pinned version, installed into GOPATH/bin when missing there).
STATICCHECK_VERSION ?= v0.8.2
lint: vet
	@test -x "$$($(GO) env GOPATH)/bin/staticcheck" || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	"$$($(GO) env GOPATH)/bin/staticcheck" $(PKGS)

# Rewrites RELIABILITY.md's figures: the end-to-end fault matrix, the bad-input table, and the
# fuzzing summary (each target for FUZZTIME, with its corpus size). Commit the result.
reliability:
	$(GO) test -count=1 -timeout 30m -run '^(TestFaultMatrixEndToEnd|TestBadInput)$$' ./internal/cli -update
	@FUZZTIME=$(FUZZTIME) FUZZ_REPORT=$(CURDIR)/bin/fuzz-report.txt scripts/fuzz.sh
	FUZZ_REPORT=$(CURDIR)/bin/fuzz-report.txt $(GO) test -count=1 -run '^TestReliabilityDoc$$' ./internal/reliability -update

clean:
	rm -rf bin

# Pins each catalog sample to the head commit of its branch and that archive's SHA-256 (needs the
# network to GitHub; review the diff of samples/manifests and commit it). PIN_ONLY=id,id limits it.
pin-samples:
	$(GO) run ./internal/tools/pinsamples -dir samples/manifests -only "$(PIN_ONLY)"
