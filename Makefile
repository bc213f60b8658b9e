# mxray — make targets. `make test` is what CI runs (.ci/run).
GO        ?= go
BIN       ?= ./mxray
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
FUZZTIME  ?= 10s
BENCHTIME ?= 1x

.PHONY: build test test-unit peers vet bench fuzz clean

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/mxray

vet:
	$(GO) vet ./...

# peers installs the real mail servers the tests talk to (needs root; see scripts/).
peers:
	bash scripts/install-peers.sh

# test: vet, then every test with the race detector. Real-peer tests (Postfix)
# run when scripts/install-peers.sh could install the peers.
test: vet peers
	$(GO) test -race -count=1 -timeout 30m ./...

test-unit: vet
	$(GO) test -race -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) ./...

fuzz:
	bash scripts/fuzz.sh $(FUZZTIME)

clean:
	rm -f $(BIN)
