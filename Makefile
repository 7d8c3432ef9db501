# entra-quickstart: `make demo` runs the whole journey against the built-in emulator,
# `make test` runs every test (installing what the tests need first).
GO       ?= go
BIN      := bin/entra-quickstart
PKGS     := ./...
FUZZTIME ?= 5s
# One cold compile of msgraph-sdk-go/models needs ~4.5 GB: keep parallel package builds low on
# small machines, and give the whole suite room on 2 cores.
TESTFLAGS ?= -p 2 -timeout 30m

.PHONY: all build test test-deps vet unit fuzz demo bench bench-go bench-smoke lint clean

all: build

build:
	$(GO) build -ldflags "-s -w" -o $(BIN) ./cmd/entra-quickstart

test-deps:
	@scripts/test-deps.sh

vet:
	$(GO) vet $(PKGS)

unit:
	$(GO) test $(TESTFLAGS) $(PKGS)

fuzz:
	@FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

# Everything: vet, every test (browser, Node and Python peers included), each fuzz target briefly.
test: test-deps vet unit fuzz bench-smoke

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

# One table (BENCHMARKS.md): single app vs its round-trip minimum and Configure.ps1's calls, a
# 100-attendee lab under Graph's scaled budget, the journey, the binary. Loopback only.
bench: build
	$(GO) run ./internal/bench/table -bin $(BIN)

# Every Go benchmark once (the table's harness is internal/bench).
bench-go:
	$(GO) test -run '^$$' -bench . -benchtime 1x $(PKGS)

# The benchmark harness in its short mode, so that it cannot rot; the numbers are not compared.
bench-smoke: build
	$(GO) test -short -run '^$$' -bench . -benchtime 1x ./internal/bench ./provision
	$(GO) run ./internal/bench/table -short -bin $(BIN)

STATICCHECK_VERSION ?= v0.8.2
lint: vet
	@command -v staticcheck >/dev/null 2>&1 || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	"$$($(GO) env GOPATH)/bin/staticcheck" $(PKGS)

clean:
	rm -rf bin
