# imapd — see README.md. `make demo` runs the server on a demo setup,
# `make test` runs every test (installing what they need first).
GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
BIN       := bin
CROSS_OS  := linux windows solaris illumos freebsd darwin
GORELEASER ?= go run github.com/goreleaser/goreleaser/v2@v2.15.1

.PHONY: all build demo test test-deps vet unit race cross bench clean release-snapshot release-check docs windows-test bench-dovecot

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
