# HostTrail — see README.md. Every target installs what it needs first (scripts/deps.sh).
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

SWIFT ?= swift
BUILD_FLAGS ?=

.PHONY: all deps bench-deps build release deb link-order lint unit test soak fuzz demo demo-stop bench bench-quick bench-full bench-data clean

all: build

deps:
	@bash scripts/deps.sh

build: deps
	$(SWIFT) build $(BUILD_FLAGS)

# The binaries an operator installs: the Swift runtime and Foundation linked in, so a host needs
# no Swift toolchain, and the agent maps ~5 MiB less (docs/performance.md, "Release binaries: static Swift runtime").
# One product at a time: GRDB's dynamic-library product cannot link against the static runtime.
RELEASE_PRODUCTS := hosttrail-agent hosttrail-collector hosttrail hosttrail-loadgen hosttrail-insights-bench hosttrail-rules-bench
# What the Debian packages hold (make deb; DebianPackageTests packages them).
PACKAGED_PRODUCTS := hosttrail-agent hosttrail-collector hosttrail

# Linked with lld and packed relocations where glibc loads them (scripts/release-link-flags.sh);
# the same flags for every product, or each build would recompile what the previous one built.
# The agent links no Foundation, only FoundationEssentials (Package.swift); the check says so.
release: deps
	link="$$(bash scripts/release-link-flags.sh)"; \
	export HOSTTRAIL_STATIC_FOUNDATION_ESSENTIALS="$$(bash scripts/release-link-flags.sh --foundation-essentials-archive)"; \
	for product in $(RELEASE_PRODUCTS); do \
	  $(SWIFT) build -c release --static-swift-stdlib --product $$product $$link $(BUILD_FLAGS) || exit 1; done
	@if nm --defined-only .build/release/hosttrail-agent | grep -q ' .s10Foundation'; then \
	  echo "release: the agent links Foundation (see Package.swift, agentLinkerSettings)" >&2; exit 1; fi

# Debian packages of the release binaries in .build/deb: hosttrail-agent, hosttrail-collector,
# hosttrail-cli (scripts/build-debs.sh; layout and maintainer scripts: packaging/debian/README.md).
# scripts/lint-debs.sh runs lintian on them.
deb: deps
	$(MAKE) release RELEASE_PRODUCTS="$(PACKAGED_PRODUCTS)"
	bash scripts/build-debs.sh

# Regenerates packaging/hosttrail-agent.order, the layout of the agent's code (needs valgrind;
# a few minutes): run it after large changes to the agent, then `make release` again.
link-order: release
	@python3 bench/link_order.py

# The toolchain's formatter, with the project's .swift-format: `swift format -i -r Sources Tests
# Package.swift` fixes what it finds.
lint:
	$(SWIFT) format lint --strict -r Sources Tests Package.swift

# The fast tier: the libraries' own tests, which need no root and no running service (journal
# files are written to temporary directories), in seconds after the build.
UNIT_TARGETS := TrailCoreTests|TrailRulesTests|TrailSystemdTests|TrailAgentTests|TrailCollectorTests
unit: deps
	$(SWIFT) build --build-tests $(BUILD_FLAGS)
	$(SWIFT) test --skip-build --filter '$(UNIT_TARGETS)' $(BUILD_FLAGS)

# The formatting gate, then everything built (tests included) and every test run: the fast tier
# first, then the rest (apart, so the end-to-end suites' blocking waits never hold the cooperative
# threads a unit test's tasks run on). Tests that need a service start or fail on it; under
# CI=true nothing is skipped silently.
test: deps lint
	$(MAKE) release RELEASE_PRODUCTS="$(PACKAGED_PRODUCTS)"
	@bash scripts/host-services.sh
	$(SWIFT) build --build-tests $(BUILD_FLAGS)
	$(SWIFT) test --skip-build --filter '$(UNIT_TARGETS)' $(BUILD_FLAGS)
	$(SWIFT) test --skip-build --skip '$(UNIT_TARGETS)' $(BUILD_FLAGS)

# Certificates, a collector on its embedded store, an agent, a few application events, a lookup.
demo: build
	@bash scripts/host-services.sh
	@bash scripts/demo.sh

demo-stop:
	@bash scripts/demo.sh stop

bench-deps:
	@bash scripts/deps.sh --bench

bench: bench-deps
	@python3 bench/run.py

bench-quick: bench-deps
	@python3 bench/run.py --quick

# With the 10M-event store (generated once into bench/data after a free-space check, ~15 GB).
bench-full: bench-deps
	@python3 bench/run.py --full

bench-data: bench-deps
	@python3 bench/run.py --data-only

clean:
	rm -rf .build demo-data

# The socket's request parsing and event validation against 1,000,000 generated inputs (a few minutes).
fuzz: deps
	$(SWIFT) build --build-tests $(BUILD_FLAGS)
	HOSTTRAIL_FUZZ_INPUTS=1000000 $(SWIFT) test --skip-build --filter ApplicationRequestFuzzTests $(BUILD_FLAGS)

# The fault tests with more rounds (agent kills, collector restarts); takes tens of minutes.
soak: deps
	$(SWIFT) build --build-tests $(BUILD_FLAGS)
	HOSTTRAIL_SOAK=10 $(SWIFT) test --skip-build --filter FaultTests $(BUILD_FLAGS)
