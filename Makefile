# redis-by-hand: `make` alone lists the targets.

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
LESSONS     := $(sort $(wildcard [0-9][0-9]-*))
# Programs that run until Ctrl-C are built into .bin and run from
# there: under `go run`, an interrupted program makes go run (and then
# make) print an error line although the program itself exited 0.
BIN         := .bin
EXE         := $(if $(filter Windows_NT,$(OS)),.exe,)
# The tests mostly wait (on servers, lessons, timeouts): eight
# packages, and eight tests in each, at a time, whatever the number
# of cores. The packages whose tests take longest start first (in the
# order named; ./... names the rest once more, and each runs once).
# make test runs them with scripts/test, which is go test -count=1
# except that it keeps the test programs in .bin/tests and relinks only
# those whose code changed; make stress runs go test itself.
TESTFLAGS   := -p 8 -parallel 8
TESTPKGS    := ./scripts/workshop ./03-subscribe ./internal/sandbox ./...

.DEFAULT_GOAL := help
.PHONY: help demo redis cluster tap telnet test stress lint golden clean workshop check watch preflight solutions bench compare

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

demo: ## replay the whole blog on the embedded Redis (needs only Go)
	@echo "make demo: the blog's steps, then the lessons beyond it, on an embedded Redis."
	@echo "A first run compiles the embedded Redis and the lessons: about a minute on 2 cores. Later runs start at once."
	@# go build -v names each package it compiles (none when all is
	@# cached): one line in 15 shows that a cold build moves on.
	@rm -f $(BIN)/demo$(EXE)
	@total=$$(go list -deps ./scripts/demo | wc -l | tr -d ' '); n=0; \
	go build -v -o $(BIN)/demo$(EXE) ./scripts/demo 2>&1 | while IFS= read -r line; do \
		case "$$line" in \
		""|*[!A-Za-z0-9._/-]*) echo "$$line" ;; \
		*) n=$$((n + 1)); if [ $$((n % 15)) -eq 2 ]; then echo "  compiling package $$n of $$total: $$line"; fi ;; \
		esac; \
	done
	@test -f $(BIN)/demo$(EXE) && $(BIN)/demo$(EXE)

redis: ## serve the embedded Redis on REDIS_ADDR (default 127.0.0.1:6379)
	@go build -o $(BIN)/redis$(EXE) ./scripts/redis
	@$(BIN)/redis$(EXE)

cluster: ## serve an embedded Redis Cluster: three nodes on REDIS_ADDR (default 127.0.0.1:7000) and the next two ports
	@go build -o $(BIN)/cluster$(EXE) ./scripts/cluster
	@$(BIN)/cluster$(EXE)

tap: ## show every byte between a client and REDIS_ADDR (listens on TAP_ADDR, default 127.0.0.1:6390)
	@go build -o $(BIN)/tap$(EXE) ./scripts/tap
	@$(BIN)/tap$(EXE)

telnet: ## type commands to REDIS_ADDR by hand, as the blog does with telnet
	@go build -o $(BIN)/telnet$(EXE) ./scripts/telnet
	@$(BIN)/telnet$(EXE)

test: ## run every test; real-redis-server runs are skipped if it is absent
	@if [ -d .workshop/solutions ]; then echo "note: the lessons are workshop exercises (make workshop), so their tests fail until you write them: make check checks them one by one, make solutions brings back the reference"; fi
	@command -v redis-server >/dev/null || echo "note: redis-server is not on PATH, so the tests against a real Redis are skipped (go run ./scripts/test -v shows each skip); install it to run them: apt-get install redis-server, or brew install redis"
	@go build -o $(BIN)/test$(EXE) ./scripts/test
	$(BIN)/test$(EXE) $(TESTFLAGS) $(TESTPKGS)

stress: ## run every test RUNS times (default 5) while two busy loops hold the cores; name each test that failed even once
	@go run ./scripts/stress -runs $(or $(RUNS),5) -load 2 -- $(TESTFLAGS) $(TESTPKGS)

bench: ## requests per second of the embedded Redis, plain miniredis and redis-server, side by side
	@go run ./scripts/bench

# compare/ is a module of its own: the drivers it measures never
# enter the lessons' go.mod.
compare: ## the lessons' client beside go-redis and redigo: benchmarks, then docs/drivers.md's tables and chart (about 3 minutes)
	@cd compare && go run ./report

lint: ## gofmt, go vet (also for windows and darwin) and staticcheck must all be clean
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...
	GOOS=windows go vet ./...
	GOOS=darwin go vet ./...
	go run $(STATICCHECK) ./...
	cd compare && go vet ./... && go run $(STATICCHECK) ./...

# make check 03: the words after check (or watch) name the lessons.
ifneq (,$(filter check watch,$(firstword $(MAKECMDGOALS))))
CHECK_ARGS := $(wordlist 2,$(words $(MAKECMDGOALS)),$(MAKECMDGOALS))
$(eval $(CHECK_ARGS):;@:)
endif

# The workshop runs as a built program, not go run: a failed check is
# then one message and make's exit line, without go run's.
WORKSHOP := go build -o $(BIN)/workshop$(EXE) ./scripts/workshop && $(BIN)/workshop$(EXE)

workshop: ## turn each lesson's main.go into an exercise to write (make solutions undoes it)
	@$(WORKSHOP)

check: ## check the lessons in order, stop at the first that fails (make check 03: one)
	@$(WORKSHOP) check $(CHECK_ARGS)

watch: ## check again whenever a lesson is saved, until Ctrl-C (make watch 03: one)
	@$(WORKSHOP) watch $(CHECK_ARGS)

preflight: ## ready this machine for a workshop: Go, a build of everything, the embedded Redis; then "ready"
	@$(WORKSHOP) preflight

solutions: ## bring back the reference solutions (your files go to .workshop/yours)
	@$(WORKSHOP) -restore

golden: ## rewrite the golden files from the sandbox (then checked on redis-server), the demo's transcript, and README.md's lesson tables and the pages' links from docs/README.md
	go test -count=1 $(addprefix ./,$(LESSONS)) ./scripts/telnet ./scripts/workshop ./internal/lessontest -args -update
	@# The demo shows the lessons' golden files, and the docs list the
	@# lessons: both once those are written.
	go test -count=1 ./scripts/demo ./docs -args -update

clean: ## remove the built programs (.bin) and the cached lesson binaries (make demo, make check)
	@rm -rf $(BIN) && echo "removed $(BIN)/"
	@go run ./scripts/demo -clean
