# raftkv — see README.md. `make run` starts a local three-node cluster,
# `make test` runs every test with the race detector.
GO       ?= go
BIN      := bin/raftkv
CLUSTER  := http://127.0.0.1:12379,http://127.0.0.1:22379,http://127.0.0.1:32379
RUN_DIR  ?= run

.PHONY: build run test test-race test-short vet lint fuzz bench stress soak clean image

build:
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/raftkv

## image: a static linux binary in a FROM-scratch image, raftkv:latest (see Dockerfile, deploy/)
image:
	CGO_ENABLED=0 $(GO) build -buildvcs=auto -trimpath -o bin/linux/raftkv ./cmd/raftkv
	docker build -t raftkv:latest .

## run: build and start a local three-node cluster in the foreground (Ctrl-C stops it)
run: build
	@scripts/run-cluster.sh $(BIN) $(RUN_DIR)

## test: vet, then every test with the race detector (what CI runs), then
## 500 seeded simulation schedules without it (testkit TestSimulation; the
## race run has 40)
test: vet
	$(GO) test -race -count=1 -timeout 20m ./...
	RAFTKV_SCHEDULES=500 $(GO) test -count=1 -timeout 20m -run '^TestSimulation$$' ./testkit

test-short:
	$(GO) test -short -count=1 ./...

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...

lint: vet
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

## fuzz: run each decoder fuzz target for FUZZTIME (default 30s)
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeCommand$$' -fuzztime $(FUZZTIME) ./messages
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeConfChangeContext$$' -fuzztime $(FUZZTIME) ./messages
	$(GO) test -run '^$$' -fuzz '^FuzzDecodePeerMessage$$' -fuzztime $(FUZZTIME) ./messages
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeSnapshotMeta$$' -fuzztime $(FUZZTIME) ./messages
	$(GO) test -run '^$$' -fuzz '^FuzzDecodePut$$' -fuzztime $(FUZZTIME) ./messages
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeEntry$$' -fuzztime $(FUZZTIME) ./membership
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeEntryContext$$' -fuzztime $(FUZZTIME) ./membership
	$(GO) test -run '^$$' -fuzz '^FuzzReadSnapshot$$' -fuzztime $(FUZZTIME) ./store
	$(GO) test -run '^$$' -fuzz '^FuzzApply$$' -fuzztime $(FUZZTIME) ./store
	$(GO) test -run '^$$' -fuzz '^FuzzTxnRequest$$' -fuzztime $(FUZZTIME) ./httpapi
	$(GO) test -run '^$$' -fuzz '^FuzzHTTPAPI$$' -fuzztime $(FUZZTIME) ./httpapi
	$(GO) test -run '^$$' -fuzz '^FuzzRestore$$' -fuzztime $(FUZZTIME) ./actors/persister

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## bench-etcd: raftkv against etcd in one run on this machine (three
## members of each, alternating rounds, see README "Benchmark against
## etcd"): the table on stdout, results.csv, table.md and plots into OUT
OUT            ?= bench-results
ROUNDS         ?= 3
BENCH_DURATION ?= 10s
.PHONY: bench-etcd
bench-etcd: build
	$(GO) build -o bin/raftkv-bench ./cmd/raftkv-bench
	bin/raftkv-bench --raftkv-bin $(BIN) --out $(OUT) --rounds $(ROUNDS) --duration $(BENCH_DURATION)

## stress: repeat the cluster tests to shake out rare schedules
stress:
	$(GO) test -race -count=5 -timeout 60m ./e2e ./testkit

## soak: the robustness scenarios (members in containers, under faults) in
## a loop for DURATION, then a summary; needs Docker and root
DURATION ?= 10m
soak:
	$(GO) test -count=1 -timeout 0 -v -run '^TestSoak$$' ./robustness -args -soak.duration=$(DURATION)

clean:
	rm -rf bin $(RUN_DIR)
