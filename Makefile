# s3-inventory-scanner — run `make help` for the targets.
#
# Everything a fresh clone needs is installed by the targets themselves:
# Go modules through `go`, and the local DynamoDB server (dynalite, pinned in
# package-lock.json) through `npm ci`.

SHELL       := /bin/bash
GO          ?= go
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -s -w -X main.version=$(VERSION)
# The Lambda build: arm64, static, no RPC shim (provided.al2023 runtime),
# and the build tag `lambda`, which leaves the command line, the demo and the
# simulated organization out of the function (see ARCHITECTURE.md).
LAMBDA_ENV  := GOOS=linux GOARCH=arm64 CGO_ENABLED=0
LAMBDA_TAGS ?= lambda,lambda.norpc
LAMBDA_ARGS := -tags $(LAMBDA_TAGS) -trimpath -ldflags "$(LDFLAGS)"
# The largest bootstrap `make build` accepts, in MiB: 12 for the scan
# itself, plus what each AWS client of the outputs costs (ARCHITECTURE.md,
# "The size budget").
LAMBDA_MAX_MIB ?= 16
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this help.
	@if [ -t 1 ] && [ -z "$$NO_COLOR" ]; then on=$$'\033[36m'; off=$$'\033[0m'; fi; \
	awk -v on="$$on" -v off="$$off" 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %s%-22s%s %s\n", on, $$1, off, $$2}' $(MAKEFILE_LIST)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

.PHONY: deps
deps: node_modules/.package-lock.json ## Install Go modules and the local DynamoDB server (dynalite).
	$(GO) mod download

.PHONY: build
build: ## Build the Lambda bootstrap (linux/arm64) into bin/, print its size, fail above LAMBDA_MAX_MIB.
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_ARGS) -o bin/bootstrap ./cmd/scanner
	@wc -c < bin/bootstrap | awk -v max=$(LAMBDA_MAX_MIB) '{mib = $$1/1048576; printf "bin/bootstrap: %.1f MiB (at most %d MiB)\n", mib, max; exit (mib > max)}'

.PHONY: build-ScannerFunction
build-ScannerFunction: ## Target `sam build` calls (BuildMethod: makefile).
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_ARGS) -o $(ARTIFACTS_DIR)/bootstrap ./cmd/scanner

# The fan-out workers (WorkerFunction in template.yaml) run the same build.
.PHONY: build-WorkerFunction
build-WorkerFunction: build-ScannerFunction

# The dashboard's custom-widget function (DashboardFunction in
# template.yaml): the same command built with the tag widget, which serves
# internal/app/webui's views over the findings table instead of scanning
# (docs/dashboards.md, "Custom widgets").
WIDGET_TAGS := lambda,lambda.norpc,widget

.PHONY: build-DashboardFunction
build-DashboardFunction: ## Target `sam build` calls for the dashboard's custom-widget function.
	$(LAMBDA_ENV) $(GO) build -tags $(WIDGET_TAGS) -trimpath -ldflags "$(LDFLAGS)" -o $(ARTIFACTS_DIR)/bootstrap ./cmd/scanner

.PHONY: scanner
scanner: ## Build the command line tool for this machine into bin/scanner.
	@# The flags that change how packages compile are the ones `go run` (make
	@# demo) uses, so this reuses its build cache; -X only changes the link.
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/scanner ./cmd/scanner

.PHONY: test
test: deps ## Run every test (unit, simulator, dynalite, Lambda emulator), with the race detector.
	$(GO) test -race -count=1 ./...

.PHONY: vet
vet: ## gofmt and go vet (what CI checks).
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# The build tags of every build of ./cmd/scanner: the command line (none),
# the scanner's and workers' function (LAMBDA_TAGS; `lambda` alone keeps
# aws-lambda-go's RPC mode), the custom-widget function (WIDGET_TAGS, and
# lambda,widget). `make lint` builds and vets each. The tag widget without
# lambda names no build: cmd/scanner/widget_needs_lambda.go stops it.
BUILD_TAG_SETS := '' $(LAMBDA_TAGS) lambda $(WIDGET_TAGS) lambda,widget

.PHONY: lint
lint: vet ## vet, then every build's tags built and vetted, go.mod tidy, staticcheck of every build.
	@set -e; for tags in $(BUILD_TAG_SETS); do \
		echo "go build, go vet -tags '$$tags' ./cmd/scanner"; \
		$(GO) build -tags "$$tags" -o /dev/null ./cmd/scanner; \
		$(GO) vet -tags "$$tags" ./cmd/scanner; \
	done
	@$(GO) mod tidy -diff || { echo "go mod tidy would change go.mod or go.sum (above): run it and commit the result"; exit 1; }
	@# staticcheck once per tag set, its findings merged: code is unused
	@# only when no build uses it.
	for tags in $(BUILD_TAG_SETS); do echo "$$(echo $${tags:-none} | tr ,. __): -tags=$$tags"; done | \
		$(GO) run $(STATICCHECK) -matrix ./...

.PHONY: demo
demo: deps ## Scan the built-in simulated organization into a local DynamoDB table and print the dashboard.
	$(GO) run ./cmd/scanner demo --dynalite

.PHONY: bench
bench: deps ## Run the benchmarks and print their figures: API calls against the minimum, wall time against bounds (throttled too), memory. Only exact properties fail it.
	set -o pipefail; $(GO) test -run '^$$' -bench . -benchmem -benchtime 1x -v ./scan/ | grep -v '^=== RUN'
	set -o pipefail; CI=true $(GO) test -run '^$$' -bench Fanout -benchtime 1x -timeout 40m -v ./internal/app/pipeline/ | grep -v '^=== RUN'
	set -o pipefail; CI=true $(GO) test -run '^$$' -bench FindingsFlood -benchtime 1x -timeout 40m -v ./internal/app/pipeline/ | grep -v '^=== RUN'
	$(GO) test -run '^$$' -bench . -skip BenchmarkDashboardViews -benchmem ./rules/ ./report/...
	set -o pipefail; $(GO) test -run '^$$' -bench BenchmarkDashboardViews -benchtime 1x -v ./report/dynamo/ | grep -v '^=== RUN'

.PHONY: fuzz
fuzz: ## Fuzz the parsers of untrusted input for 30 s each.
	$(GO) test -run '^$$' -fuzz FuzzParseEvent -fuzztime 30s ./cmd/scanner
	$(GO) test -run '^$$' -fuzz FuzzLoadPolicy -fuzztime 30s ./rules
	$(GO) test -run '^$$' -fuzz FuzzParseWidgetEvent -fuzztime 30s ./internal/app/webui/widget
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 30s ./internal/base/iampolicy
	$(GO) test -run '^$$' -fuzz FuzzParseMessage -fuzztime 30s ./internal/app/pipeline
	$(GO) test -run '^$$' -fuzz FuzzDecodePageToken -fuzztime 30s ./report

.PHONY: clean
clean: ## Remove build output.
	rm -rf bin .aws-sam
