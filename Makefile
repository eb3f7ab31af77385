# imapd — see README.md. `make demo` runs the server on a demo setup,
# `make test` runs every test (installing what they need first).
#
#   make check        the fast gate (seconds when warm): gofmt, go vet for
#                     every OS, staticcheck, nothing referring outside the repo
#   make unit         the tests a developer without root can run
#   make integration  the tests that need root or installed packages
#   make test         check, then everything below in a clean clone
#   make test-inner   everything, in place: test-deps unit integration race
#                     fuzz-ci soak-ci windows-test release-check
GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
BIN       := bin
CROSS_OS  := linux windows solaris illumos freebsd darwin
GORELEASER ?= go run github.com/goreleaser/goreleaser/v2@v2.15.1
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(BIN)/tools/staticcheck
# The packages whose tests drive the system: real users (useradd), set-uid
# servers, inetd, systemd, IMAP clients installed by scripts/test-deps.sh.
INTEGRATION_PKGS := imapd/e2e imapd/internal/deploycheck

.PHONY: all build demo test test-inner check fmt vet cross staticcheck selfcheck \
	test-deps unit integration race bench clean release-snapshot release-check docs \
	windows-test bench-dovecot bench-inetd bench-big fuzz fuzz-ci soak soak-ci

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/...

demo: build
	$(BIN)/imapd -demo -listen 127.0.0.1:1143 -listen-tls 127.0.0.1:1993

# The fast gate first, then the whole suite in a clone of this checkout in a
# temporary directory with nothing beside it (scripts/clone-test.sh): a test
# that needs a file outside the repository fails here.
test: check
	MAKE="$(MAKE)" ./scripts/clone-test.sh test-inner
	@echo "make test: all passed"

test-inner: test-deps unit integration race fuzz-ci soak-ci windows-test release-check
	@echo "make test-inner: all passed"

check: fmt cross staticcheck selfcheck
	@echo "make check: all passed"

fmt:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then \
	  echo "gofmt -l: not formatted (run gofmt -w on them):"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# vet type-checks every package for every OS (a build without the link).
cross:
	@for os in $(CROSS_OS); do \
	  echo "vet GOOS=$$os"; GOOS=$$os GOARCH=amd64 CGO_ENABLED=0 $(GO) vet ./... || exit 1; \
	done
	GOOS=windows GOARCH=arm64 $(GO) vet ./...

# staticcheck for every OS, the binary built for this machine (pinned version).
staticcheck: $(STATICCHECK)
	@for os in $(CROSS_OS); do \
	  echo "staticcheck GOOS=$$os"; GOOS=$$os GOARCH=amd64 CGO_ENABLED=0 $(STATICCHECK) ./... || exit 1; \
	done
	GOOS=windows GOARCH=arm64 $(STATICCHECK) ./...

$(STATICCHECK): Makefile
	GOBIN="$(abspath $(BIN)/tools)" GOOS= GOARCH= $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

selfcheck:
	./scripts/selfcheck.sh

test-deps:
	./scripts/test-deps.sh

# Every package but the integration ones. Tests that need root or a tool
# that is not installed skip themselves and say why (go test -v shows it).
unit:
	$(GO) test -count=1 $$($(GO) list ./... | grep -v -x $(patsubst %,-e %,$(INTEGRATION_PKGS)))

integration:
	@if [ "$$(id -u)" != 0 ]; then \
	  echo "make integration: needs root: these tests install Debian packages (scripts/test-deps.sh)," >&2; \
	  echo "  create real users with useradd, run the set-uid server, inetd and systemd units." >&2; \
	  echo "  Run it as root (sudo make integration); \`make unit\` runs the rest without root." >&2; \
	  exit 1; fi
	./scripts/test-deps.sh
	$(GO) test -count=1 $(INTEGRATION_PKGS)

# The packages where sessions, signals and other processes meet, once more
# under the race detector.
race:
	$(GO) test -race -count=1 ./server ./session ./mailbox/... ./platform/...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# imapd against Dovecot on the same mbox (root; installs dovecot-imapd).
# Not part of `make test`. See bench/README.md.
# BENCH_PARTS: steps,mixed,logins (default), inetd (systemd-socket-activate,
# real users), big (50,000 messages); bench-inetd and bench-big run one each.
BENCH_COUNT ?= 2000
BENCH_RUNS  ?= 3
BENCH_PARTS ?= steps,mixed,logins
bench-dovecot:
	COUNT=$(BENCH_COUNT) RUNS=$(BENCH_RUNS) PARTS=$(BENCH_PARTS) GO=$(GO) ./bench/run.sh
bench-inetd:
	RUNS=$(BENCH_RUNS) PARTS=inetd GO=$(GO) ./bench/run.sh
bench-big:
	RUNS=$(BENCH_RUNS) PARTS=big GO=$(GO) ./bench/run.sh

# Every fuzz target (func Fuzz* in any package), one after the other, each
# for FUZZTIME (scripts/fuzz.sh); fuzz-ci is the short run for CI. A failing
# input is written to the package's testdata/fuzz/<Target>/ and the run
# stops. See docs/testing.md.
FUZZTIME ?= 60s
fuzz:
	GO=$(GO) ./scripts/fuzz.sh $(FUZZTIME)

fuzz-ci:
	$(MAKE) fuzz FUZZTIME=3s

# kill -9 soak: the real server killed at random points while a client
# changes the mailbox and another process delivers into it; every message
# checked after each trial. SOAK_TRIALS trials per storage format (the e2e
# suite runs once per format: soak-ci 25 + 25); SOAK_SEED replays a run.
# `make test` runs soak-ci. See docs/testing.md.
SOAK_TRIALS ?= 1000
soak:
	IMAPD_SOAK_TRIALS=$(SOAK_TRIALS) IMAPD_SOAK_SEED=$(SOAK_SEED) $(GO) test -count=1 -timeout 0 -run '^TestSoak$$' -v ./e2e

soak-ci:
	$(MAKE) soak SOAK_TRIALS=25

windows-test:
	./scripts/windows-test.sh

release-snapshot:
	$(GORELEASER) release --snapshot --clean

release-check:
	GORELEASER="$(GORELEASER)" ./scripts/release-check.sh

docs:
	$(GO) run ./internal/docscheck/gen

clean:
	rm -rf $(BIN) dist
