# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: run test test-sqlite test-postgres test-deployment image bench deps build lint fmt clean

## run: build both services and start them on SQLite with an admin on each side (Ctrl-C stops both)
run:
	$(CARGO) build --bins
	./scripts/run-dev.sh

## test: install what the tests need, then run every test on SQLite and on PostgreSQL, then the deployment test
test: deps
	$(CARGO) build --bins
	$(MAKE) test-sqlite
	$(MAKE) test-postgres
	$(MAKE) test-deployment

test-sqlite:
	TEST_DATABASE=sqlite $(CARGO) test --workspace

test-postgres:
	@status=0; ./scripts/ensure-postgres.sh || status=$$?; \
	if [ $$status -eq 3 ]; then exit 0; elif [ $$status -ne 0 ]; then exit $$status; fi; \
	TEST_DATABASE=postgres $(CARGO) test --workspace

## test-deployment: build the images, bring up deploy/compose.yaml with podman and drive it through its proxies
test-deployment: image
	$(CARGO) test -p integration-tests --test deployment -- --ignored

## bench: release builds of both services under load (SQLite); prints and writes target/bench/report.md
bench:
	$(CARGO) build --release --bins
	./target/release/bench

## image: the services' container image (and the PostgreSQL and nginx images of deploy/compose.yaml), built with podman on a Debian base made by debootstrap
image:
	$(CARGO) build --release --bins
	./scripts/build-images.sh

## deps: system packages the build and tests need (Debian)
deps:
	./scripts/install-deps.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
	rm -rf data
