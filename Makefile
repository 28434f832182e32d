# The two commands of README.md, plus helpers. Builds live outside the source tree
# (../build-<folder>/<preset>).
.PHONY: run test build release format lint fuzz deps pg-stop clean

run:            ## install deps, build release, start local PostgreSQL, migrate, seed admin, serve :8080
	scripts/run.sh

test:           ## install deps, build debug (ASan+UBSan), start services, run every test
	scripts/test.sh

deps:
	scripts/install-deps.sh

build:
	cmake --preset debug && cmake --build --preset debug

release:
	cmake --preset release && cmake --build --preset release

format:
	find src tools fuzz -name '*.cpp' -o -name '*.hpp' 2>/dev/null | xargs clang-format -i

lint:           ## coroutine lint, then clang-tidy (.clang-tidy) over every source: slow
	python3 scripts/lint.py
	scripts/tidy.sh

fuzz:           ## libFuzzer targets (clang-14), FUZZ_SECONDS each (default 60): slow
	scripts/fuzz.sh

pg-stop:
	scripts/pg-local.sh stop

clean:
	rm -rf ../build-$(notdir $(CURDIR))
