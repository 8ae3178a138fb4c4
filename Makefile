# Qun - the two commands of the README, and the benchmark.
#
#   make run    install what is missing, build, start a development server
#   make test   install what is missing, build with ASan/UBSan, run every test
#   make bench  build optimised, run the load generator against Qun and peers
#   make fuzz   build the libFuzzer targets (build-fuzz/) and run each for
#               FUZZ_SECONDS (300); FUZZ=config runs one; FUZZ_SAVE=1 keeps
#               new inputs in fuzz/corpus/ (docs/fuzzing.md)
#   make soak   build optimised, hold a mixed load on qund for SOAK_MINUTES (30)

BUILD      ?= build
TEST_BUILD ?= build-test
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)

.PHONY: all deps build run test bench fuzz soak clean format

all: build

deps:
	@sh scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# var/ holds the certificate, the database (store.path) and the vault key
# (vault.key_file); as root, dev-cert.sh gives var/ to the qun user, since
# qund creates and writes those files after switching to it.
run: build
	@mkdir -p var
	@sh scripts/dev-cert.sh var/tls
	./$(BUILD)/qund -c conf/qund.conf

# The test run also builds the `make run` configuration (the default
# compiler, gcc on Debian, with its own warnings as errors), so that `make
# run` builds at every commit that passes.
test: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS) --target qund qunctl
	CC=clang cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug \
	    -DQUN_SANITIZE=ON -DQUN_FUZZ=ON >/dev/null
	cmake --build $(TEST_BUILD) -j $(JOBS)
	cd $(TEST_BUILD) && ctest --output-on-failure -j $(JOBS)

bench: deps
	@sh scripts/install-deps.sh bench
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD) -j $(JOBS)
	bash bench/run.sh; bash bench/netlog.sh

# The same sanitizers as make test, in a directory of its own. FUZZ,
# FUZZ_SECONDS and FUZZ_SAVE are read by scripts/fuzz.sh.
fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug \
	    -DQUN_SANITIZE=ON -DQUN_FUZZ=ON >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target \
	    $$(cd fuzz && ls fuzz_*.c | sed 's/\.c$$//')
	sh scripts/fuzz.sh $(FUZZ_BUILD)

# Not in CI: about SOAK_MINUTES (default 30) plus a minute; needs root like
# bench (qund drops to the qunbench user). bench/results/soak.md, soak.csv.
soak: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD) -j $(JOBS)
	bash bench/soak.sh

format:
	clang-format -i $$(git ls-files 'src/*.c' 'src/*.h' 'bench/*.c' 'fuzz/*.c')

clean:
	rm -rf $(BUILD) $(TEST_BUILD) $(FUZZ_BUILD)
