# wmss: the two commands a newcomer runs are `make demo` and `make check`.
PY := /usr/bin/python3

.PHONY: setup build demo check test test-go test-race test-py test-fuzz bench

setup:
	bash scripts/setup.sh

build:
	go build -o bin/wmss ./cmd/wmss

# The main job: serve + `wmss demo` over REST (SFT baseline vs WMSS, evaluation, report), then stop.
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

# Each fuzz target for a fixed number of inputs (a count, not a duration:
# duration-bounded runs sometimes end with a spurious "context deadline
# exceeded"). Their seed corpora also run in test-go. FUZZN scales all.
FUZZN ?= 1
test-fuzz:
	go test -run '^$$' -fuzz '^FuzzDecodeSpec$$' -fuzztime $$(( $(FUZZN) * 30000))x ./training
	go test -run '^$$' -fuzz '^FuzzCreateDataset$$' -fuzztime $$(( $(FUZZN) * 5000))x ./internal/datastore
	go test -run '^$$' -fuzz '^FuzzExtract$$' -fuzztime $$(( $(FUZZN) * 15000))x ./evaluators/mathgrade
	go test -run '^$$' -fuzz '^FuzzNormalize$$' -fuzztime $$(( $(FUZZN) * 15000))x ./evaluators/mathgrade
	go test -run '^$$' -fuzz '^FuzzSanitize$$' -fuzztime $$(( $(FUZZN) * 100000))x ./evaluators/codeeval

bench:
	go test -run '^$$' -bench . -benchtime 2s ./bridge/
