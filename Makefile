# wmss: the two commands a newcomer runs are `make demo` and `make check`.
PY := /usr/bin/python3

.PHONY: setup build demo check test test-go test-race test-py test-fuzz bench

setup:
	bash scripts/setup.sh

build:
	go build -o bin/wmss ./cmd/wmss

# The main job on the embedded default (for now: start the server, show /healthz, stop).
demo: setup
	bash scripts/demo.sh

# Set up, then run every test. This is what CI runs.
check: setup test

test: test-go test-race test-py test-fuzz

test-go:
	go vet ./...
	bash scripts/openapi.sh --check
	go test -count=1 ./...

test-race:
	go test -count=1 -race ./bridge/...

test-py:
	cd bridge && $(PY) -m unittest discover -s wmss_engine/tests -t . 

# Each fuzz target for a short fixed time (their seed corpora also run in test-go).
FUZZTIME ?= 8s
test-fuzz:
	go test -run '^$$' -fuzz '^FuzzDecodeSpec$$' -fuzztime $(FUZZTIME) ./training
	go test -run '^$$' -fuzz '^FuzzCreateDataset$$' -fuzztime $(FUZZTIME) ./internal/datastore
	go test -run '^$$' -fuzz '^FuzzExtract$$' -fuzztime $(FUZZTIME) ./evaluators/mathgrade
	go test -run '^$$' -fuzz '^FuzzNormalize$$' -fuzztime $(FUZZTIME) ./evaluators/mathgrade
	go test -run '^$$' -fuzz '^FuzzSanitize$$' -fuzztime $(FUZZTIME) ./evaluators/codeeval

bench:
	go test -run '^$$' -bench . -benchtime 2s ./bridge/
