# The two commands of the README: `make run` and `make test`. CMake does the building.
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 10
# Warnings are errors in every build (TRAPLINE_WERROR defaults to ON): CI needs no setting.
CMAKE_FLAGS ?=

PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: all build deps test-deps run test test-loaded unit integration asan fuzz-smoke fuzz bench bench-smtp bench-web bench-reports bench-metrics bench-transfer clean config-template install

all: build

deps:
	scripts/deps.sh

test-deps:
	scripts/deps.sh --test

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# Puts `trapline` on the PATH: PREFIX/bin/trapline (default /usr/local; its data_dir is
# /var/lib/trapline), the commented config in PREFIX/share/trapline (and in
# PREFIX/etc/trapline unless one is there), the man pages trapline(8) and trapline.conf(5) in
# PREFIX/share/man, the systemd unit in PREFIX/lib/systemd/system, the docs in
# PREFIX/share/doc/trapline, and the system user trapline; DESTDIR for packaging (no user).
install: build
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	DESTDIR=$(DESTDIR) cmake --install $(BUILD)

# Starts the service with etc/trapline.conf, whose keys are all commented out: the embedded
# defaults (DNS 127.0.0.1:5353, zone bl.example.org, ./var) until a line is uncommented.
CONFIG ?= etc/trapline.conf
run: build
	./$(BUILD)/trapline serve --config $(CONFIG)

# Everything: the normal build, the same tests under ASan+UBSan, then each fuzz target briefly;
# every stage runs and is reported even when an earlier one failed (scripts/test.sh).
test: test-deps build
	BUILD=$(BUILD) JOBS=$(JOBS) MAKE="$(MAKE)" scripts/test.sh

# make test twice in a row with both cores kept busy by stress(1): what CI sees on a loaded
# machine. STRESS_CPUS workers (default: the cores), for at most 90 minutes.
STRESS_CPUS ?= $(JOBS)
test-loaded: test-deps build
	scripts/test-loaded.sh $(STRESS_CPUS)

asan: test-deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTRAPLINE_SANITIZE=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		TRAPLINE_SANITIZED=1 ctest --output-on-failure -j $(JOBS) -L 'unit|integration'

fuzz-smoke: test-deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTRAPLINE_FUZZ=ON \
		-DTRAPLINE_FUZZ_SECONDS=$(FUZZ_SECONDS) $(CMAKE_FLAGS) >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	cd $(FUZZ_BUILD) && ctest --output-on-failure -j $(JOBS) -L fuzz

# A longer fuzzing campaign: make fuzz FUZZ_SECONDS=3600
fuzz:
	$(MAKE) fuzz-smoke FUZZ_SECONDS=$(if $(filter 10,$(FUZZ_SECONDS)),600,$(FUZZ_SECONDS))

bench: build
	bench/dns.sh

# The spamtrap side by side with Postfix and smtp-sink (as root: Postfix's master needs it).
bench-smtp: test-deps build
	bench/smtp.sh --no-build

# The web's JSON API against nginx on the same core, and DNS while it is loaded (bench/web.sh).
bench-web: build test-deps
	bench/web.sh --no-build

# User reports over HTTP: reports/s analysed and committed, and the analysis alone
# (bench/reports.sh).
bench-reports: build test-deps
	bench/reports.sh --no-build

# DNS qps with GET /metrics scraped every second against without, as a ratio (bench/metrics.sh).
bench-metrics: build
	bench/metrics.sh --binary $(BUILD)/trapline

# Zone transfers: AXFR time against NSD's, lag at an NSD secondary, DNS qps during AXFRs
# (bench/transfer.sh; --quick through BENCH_ARGS=--quick).
bench-transfer: build test-deps
	bench/transfer.sh --no-build $(BENCH_ARGS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
