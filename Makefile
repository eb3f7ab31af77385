# imapd — see README.md. `make demo` runs the server on a demo setup,
# `make test` runs every test (installing what they need first).
GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
BIN       := bin
CROSS_OS  := linux windows solaris illumos freebsd darwin
GORELEASER ?= go run github.com/goreleaser/goreleaser/v2@v2.15.1

.PHONY: all build demo test test-deps vet unit race cross bench clean release-snapshot release-check docs windows-test bench-dovecot fuzz fuzz-ci soak soak-ci

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/...

demo: build
	$(BIN)/imapd -demo -listen 127.0.0.1:1143 -listen-tls 127.0.0.1:1993

test: test-deps vet unit race cross windows-test release-check
	@echo "make test: all passed"

test-deps:
	./scripts/test-deps.sh

vet:
	$(GO) vet ./...

unit:
	$(GO) test -count=1 ./...

# The packages where sessions, signals and other processes meet, once more
# under the race detector.
race:
	$(GO) test -race -count=1 ./server ./session ./mailbox/... ./platform/...

# vet type-checks every package for every OS (a build without the link).
cross:
	@for os in $(CROSS_OS); do \
	  echo "vet GOOS=$$os"; GOOS=$$os GOARCH=amd64 CGO_ENABLED=0 $(GO) vet ./... || exit 1; \
	done
	GOOS=windows GOARCH=arm64 $(GO) vet ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# imapd against Dovecot on the same mbox (root; installs dovecot-imapd).
# Not part of `make test`. See bench/README.md.
BENCH_COUNT ?= 2000
BENCH_RUNS  ?= 3
bench-dovecot:
	COUNT=$(BENCH_COUNT) RUNS=$(BENCH_RUNS) GO=$(GO) ./bench/run.sh

# Every fuzz target (func Fuzz* in any package), one after the other, each
# for FUZZTIME; fuzz-ci is the short run for CI. A failing input is written
# to the package's testdata/fuzz/<Target>/ and the run stops. See
# docs/testing.md.
FUZZTIME ?= 60s
fuzz:
	@set -e; $(GO) test -list '^Fuzz' ./... | \
	  awk '/^Fuzz/ { n[++c] = $$1 } /^ok/ { for (i = 1; i <= c; i++) print $$2, n[i]; c = 0 }' | \
	  while read pkg target; do \
	    echo "fuzz $$pkg $$target for $(FUZZTIME)"; \
	    $(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg </dev/null || exit 1; \
	  done

fuzz-ci:
	$(MAKE) fuzz FUZZTIME=3s

# kill -9 soak: the real server killed at random points while a client
# changes the mailbox and another process delivers into it; every message
# checked after each trial. SOAK_TRIALS trials (soak-ci: 50); SOAK_SEED
# replays a run. Not part of `make test`. See docs/testing.md.
SOAK_TRIALS ?= 1000
soak:
	IMAPD_SOAK_TRIALS=$(SOAK_TRIALS) IMAPD_SOAK_SEED=$(SOAK_SEED) $(GO) test -count=1 -timeout 0 -run '^TestSoak$$' -v ./e2e

soak-ci:
	$(MAKE) soak SOAK_TRIALS=50

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
