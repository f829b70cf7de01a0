# The one command that runs every test: go vet, staticcheck (a tool in go.mod),
# then every test with the race detector. Tests that need Redis start their own
# redis-server on a free port. Every benchmark runs too, twice (-benchtime 2x
# runs it once, then twice), so that one that no longer works fails here; its
# figures mean nothing under the race detector.
#
# The benchmarks run in a pass of their own: given -bench, go test runs the
# packages' test binaries one at a time, which made the whole suite take as
# long as all its packages added up. The tests run packages side by side, and
# the commands' packages, the longest, are named first so that they start
# first rather than last.
.PHONY: test run lint bench fuzz

test:
	go vet ./...
	go tool staticcheck ./...
	go test -race -count=1 ./cmd/... ./...
	go test -race -count=1 -run '^$$' -bench . -benchtime 2x ./...

run:
	go run ./cmd/helpline

lint:
	go run ./cmd/helpline lint

bench:
	go test -run '^$$' -bench . -benchmem ./bot/...

# A short fuzzing pass over every parser; raise FUZZTIME for a longer one.
FUZZTIME ?= 20s
fuzz:
	go test -run '^$$' -fuzz FuzzNormalize -fuzztime $(FUZZTIME) ./bot/flow/
	go test -run '^$$' -fuzz FuzzStep -fuzztime $(FUZZTIME) ./bot/flow/
	go test -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZTIME) ./bot/flow/
	go test -run '^$$' -fuzz FuzzDetect -fuzztime $(FUZZTIME) ./bot/safety/
	go test -run '^$$' -fuzz FuzzSessionDecode -fuzztime $(FUZZTIME) ./bot/
	go test -run '^$$' -fuzz FuzzReplyDecode -fuzztime $(FUZZTIME) ./bot/
	go test -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME) ./bot/telegram/
	go test -run '^$$' -fuzz FuzzSplit -fuzztime $(FUZZTIME) ./bot/telegram/
	go test -run '^$$' -fuzz FuzzWebhook -fuzztime $(FUZZTIME) ./bot/twilio/
	go test -run '^$$' -fuzz FuzzSend -fuzztime $(FUZZTIME) ./bot/webchat/
