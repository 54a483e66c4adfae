# tfauth: `make demo` runs the hub-and-spoke demo against the local AWS
# emulator; `make test` runs every test. Both install what they need.

GO          ?= go
TF_CACHE    ?= $(HOME)/.cache/tfauth/terraform
TF_VERSIONS := 1.5.7 1.8.5
BIN         := bin

export TFAUTH_TEST_TERRAFORM_DIR := $(TF_CACHE)

.PHONY: all build test terraform demo bench fuzz vet clean

all: build

build:
	$(GO) build -o $(BIN)/tfauth .

# The real terraform versions the end-to-end tests run against, built from
# source through the Go module proxy (no download site is needed), cached
# outside the repo; skipped when present.
terraform:
	@for v in $(TF_VERSIONS); do \
	  if [ -x "$(TF_CACHE)/$$v/terraform" ]; then echo "terraform $$v: cached in $(TF_CACHE)/$$v"; \
	  else echo "terraform $$v: building with go install (a few minutes)"; \
	    mkdir -p "$(TF_CACHE)/$$v" && GOBIN="$(TF_CACHE)/$$v" $(GO) install github.com/hashicorp/terraform@v$$v || exit 1; \
	  fi; \
	done

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	GOOS=windows $(GO) vet ./...
	GOOS=darwin $(GO) vet ./...

test: terraform vet build
	$(GO) test -count=1 -timeout 40m ./...
	$(MAKE) fuzz
	@echo "demo: examples/hub-spoke/demo.sh (the README's first command)"
	@./examples/hub-spoke/demo.sh > demo.log 2>&1 || { cat demo.log; rm -f demo.log; echo "demo: FAILED"; exit 1; }
	@tail -n 4 demo.log; rm -f demo.log; echo "demo: passed"

# A short run of each fuzz target (they also run their seed corpus in `go test`).
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 20s ./authflow/
	$(GO) test -run '^$$' -fuzz '^FuzzParseArgs$$' -fuzztime 20s ./wrapper/
	$(GO) test -run '^$$' -fuzz '^FuzzMain$$' -fuzztime 10s ./wrapper/

demo: terraform build
	./examples/hub-spoke/demo.sh

bench: terraform build
	./scripts/bench-shim.sh

clean:
	rm -rf $(BIN)
