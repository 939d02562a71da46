# redis-by-hand: `make` alone lists the targets.

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
LESSONS     := $(sort $(wildcard 0*-*))

.DEFAULT_GOAL := help
.PHONY: help demo redis telnet test lint golden bench

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

demo: ## replay the whole blog on the embedded Redis (needs only Go)
	@go run ./scripts/demo

redis: ## serve the embedded Redis on REDIS_ADDR (default 127.0.0.1:6379)
	@go run ./scripts/redis

telnet: ## type commands to REDIS_ADDR by hand, as the blog does with telnet
	@go run ./scripts/telnet

test: ## run every test; real-redis-server runs are skipped if it is absent
	@command -v redis-server >/dev/null || echo "note: redis-server is not on PATH, so the tests against a real Redis are skipped (go test -v shows each skip); install it to run them: apt-get install redis-server, or brew install redis"
	go test -count=1 ./...

bench: ## requests per second of the embedded Redis, plain miniredis and redis-server, side by side
	@go run ./scripts/bench

lint: ## gofmt, go vet and staticcheck must all be clean
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...
	go run $(STATICCHECK) ./...

golden: ## rewrite the lessons' golden files from the sandbox, then check them on redis-server
	go test -count=1 $(addprefix ./,$(LESSONS)) ./scripts/demo ./scripts/telnet ./internal/lessontest -args -update
