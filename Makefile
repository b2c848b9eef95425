# flexpost — the two commands of the quick start are `make run` and `make test`.
SHELL := /bin/bash
SWIFT ?= swift

# Debian packages: what building and running needs, and what the tests add
# (a real SMTP server with STARTTLS and AUTH, openssl for its certificate,
# util-linux's script for a terminal, headless Chromium for the console,
# PostgreSQL, Dovecot for the bounce mailbox, Postfix as the relay that
# bounces; Postfix is installed unconfigured, so the system instance never runs;
# procps for pgrep/pkill, which stop a test Dovecot and its children).
RUN_PACKAGES := libcurl4-openssl-dev libsqlite3-dev pkg-config tzdata
TEST_PACKAGES := $(RUN_PACKAGES) python3 python3-aiosmtpd openssl util-linux chromium chromium-driver python3-selenium \
	postgresql postgresql-client dovecot-imapd postfix procps

# A development-only webhook secret for `make run` (never use it in production).
DEV_WEBHOOK_SECRET := whsec_ZmxleHBvc3QtZGV2ZWxvcG1lbnQtb25seQ==
EVENT ?= Tests/Fixtures/events/order-second-site.json
URL ?= http://127.0.0.1:8080

.PHONY: run test build deps-run deps-test deps-bench bench post fuzz clean

define install_missing
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

deps-run:
	$(call install_missing,$(RUN_PACKAGES))

define preseed_postfix
	@dpkg -s postfix >/dev/null 2>&1 || { sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  echo "postfix postfix/main_mailer_type select No configuration" | $$sudo debconf-set-selections; }
endef

deps-test:
	$(call preseed_postfix)
	$(call install_missing,$(TEST_PACKAGES))
	@# The tests run their own Dovecot from a throwaway directory; the package's
	@# system service stays stopped and disabled (nothing listens on 143 or 993).
	@sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	if command -v systemctl >/dev/null && systemctl is-enabled dovecot >/dev/null 2>&1; then \
	  $$sudo systemctl disable --now dovecot >/dev/null 2>&1 || true; fi; \
	if [ -f /run/dovecot/master.pid ]; then $$sudo kill "$$(cat /run/dovecot/master.pid)" 2>/dev/null || true; fi

build: deps-run
	$(SWIFT) build

## make run: build and start `flexpost serve` on the embedded defaults
## (SQLite under queue/, mail as .eml files under queue/outbox/).
run: build
	@mkdir -p queue
	FLEXPOST_WEBHOOK_SECRET="$${FLEXPOST_WEBHOOK_SECRET:-$(DEV_WEBHOOK_SECRET)}" \
	  "$$($(SWIFT) build --show-bin-path)/flexpost" serve

## make test: install what the tests need, build, start a throwaway PostgreSQL
## on a free loopback port, run every test, stop PostgreSQL. Tests run one at a
## time: they start servers and processes of their own, and on 2 cores a serial
## run is both faster and steadier than a parallel one.
PG_DIR := $(shell mktemp -d -u /tmp/flexpost-pg-XXXXXX)
test: deps-test
	$(SWIFT) build --build-tests
	@port=$$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'); \
	bash Tests/Support/postgres_test_server.sh start "$(PG_DIR)" $$port || exit 1; \
	FLEXPOST_BIN="$$($(SWIFT) build --show-bin-path)/flexpost" \
	FLEXPOST_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$$port/postgres?sslmode=disable" \
	FLEXPOST_TEST_POSTGRES_DIR="$(PG_DIR)" \
	  timeout --kill-after=30 1500 $(SWIFT) test --skip-build --no-parallel; status=$$?; \
	bash Tests/Support/postgres_test_server.sh stop "$(PG_DIR)"; exit $$status

## make bench: flexpost against Postfix on the same work, side by side, in one
## run (Tests/Benchmarks/bench.py; figures explained in docs/benchmarks.md).
## Postfix is installed unconfigured ("No configuration": the system instance
## never starts, nothing listens on port 25); the benchmark runs its own on
## high loopback ports from a throwaway directory. BENCH_ARGS: e.g. --n 5000.
BENCH_PACKAGES := $(RUN_PACKAGES) python3 postfix wrk postgresql postgresql-client
deps-bench:
	$(call preseed_postfix)
	$(call install_missing,$(BENCH_PACKAGES))

bench: deps-bench
	$(SWIFT) build -c release --product flexpost
	python3 Tests/Benchmarks/bench.py --flexpost "$$($(SWIFT) build -c release --show-bin-path)/flexpost" $(BENCH_ARGS)

## make post [EVENT=file] [URL=...]: post an event to a running serve, signed
## with the development secret the way the order system signs.
post:
	@secret="$${FLEXPOST_WEBHOOK_SECRET:-$(DEV_WEBHOOK_SECRET)}"; \
	id="msg_$$(date +%s%N)"; ts="$$(date +%s)"; \
	key="$$(printf '%s' "$${secret#whsec_}" | base64 -d | od -An -tx1 | tr -d ' \n')"; \
	sig="$$( { printf '%s.%s.' "$$id" "$$ts"; cat "$(EVENT)"; } | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$$key" -binary | base64)"; \
	curl -sS -X POST "$(URL)/v1/events" -H 'content-type: application/json' \
	  -H "webhook-id: $$id" -H "webhook-timestamp: $$ts" -H "webhook-signature: v1,$$sig" \
	  --data-binary "@$(EVENT)"; echo

## make fuzz [FUZZ_RUNS=N]: libFuzzer over the event decoder (then rules and
## MIME), the header / quoted-printable encoders and the bounce reader, seeded
## from the samples.
FUZZ_RUNS ?= 1000000
fuzz: deps-run
	FLEXPOST_FUZZ=1 $(SWIFT) build -c release --scratch-path .build-fuzz --product FuzzEventDecoder
	FLEXPOST_FUZZ=1 $(SWIFT) build -c release --scratch-path .build-fuzz --product FuzzMailEncoding
	FLEXPOST_FUZZ=1 $(SWIFT) build -c release --scratch-path .build-fuzz --product FuzzBounceReport
	@mkdir -p .build-fuzz/corpus-events .build-fuzz/corpus-encoding .build-fuzz/corpus-bounces
	@cp Tests/Fixtures/events/*.json .build-fuzz/corpus-events/
	@cp Tests/Fixtures/bounces/*.eml .build-fuzz/corpus-bounces/
	@printf 'Ihre Zugangsdaten f\xc3\xbcr CompanyFlex \xe2\x80\x93 Auftrag' > .build-fuzz/corpus-encoding/subject
	@printf 'J\xc3\xb6rg Sch\xc3\xa4fer' > .build-fuzz/corpus-encoding/name
	# detect_leaks=0: LeakSanitizer takes the compiled templates held by a static for
	# leaks (Swift keeps enum case tags in the spare bits of their box pointers).
	ASAN_OPTIONS=detect_leaks=0 FLEXPOST_TEMPLATES=templates .build-fuzz/release/FuzzEventDecoder -runs=$(FUZZ_RUNS) -max_len=4096 \
	  -print_final_stats=1 .build-fuzz/corpus-events 2>&1 | tail -n 12
	.build-fuzz/release/FuzzMailEncoding -runs=$(FUZZ_RUNS) -max_len=512 -print_final_stats=1 \
	  .build-fuzz/corpus-encoding 2>&1 | tail -n 12
	ASAN_OPTIONS=detect_leaks=0 .build-fuzz/release/FuzzBounceReport -runs=$(FUZZ_RUNS) -max_len=8192 -print_final_stats=1 \
	  .build-fuzz/corpus-bounces 2>&1 | tail -n 12

clean:
	rm -rf .build
