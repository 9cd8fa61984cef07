# scalestack: `make test` runs everything CI runs (it installs and starts the servers the integration tests
# need); `make lint` runs go vet, staticcheck and actionlint at pinned versions.
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin
STATICCHECK_VERSION := v0.8.2
ACTIONLINT_VERSION := v1.7.12

.PHONY: test unit integration infra-test bench lint tools build clean

## test: unit tests (Pulumi mocks, app unit tests and fuzz seed corpora), then app integration tests on real servers
test: unit integration

unit:
	$(GO) test -count=1 ./...

## integration: starts PostgreSQL (primary + streaming replica) and Redis on their own ports, runs the
## integration-tagged tests, stops the servers
integration:
	scripts/app-integration-test.sh

## infra-test: only the Pulumi tests (dev and prod stacks and every component under mocks)
infra-test:
	$(GO) test -count=1 -v ./tests/...

## bench: the app's Go benchmarks, the Redis-backed ones included (on the integration test servers)
bench:
	APP_TEST_RACE=0 scripts/app-integration-test.sh -run '^$$' -bench . -benchmem

lint: tools
	$(GO) vet ./...
	$(BIN)/staticcheck ./...
	$(BIN)/actionlint

tools: $(BIN)/staticcheck $(BIN)/actionlint

$(BIN)/staticcheck:
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

$(BIN)/actionlint:
	GOBIN=$(BIN) $(GO) install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

## build: the Pulumi program binary (what `pulumi up` compiles)
build:
	$(GO) build -o bin/scalestack .

clean:
	rm -rf bin
