# Convenience targets; the scripts are the source of truth.
.PHONY: test bench
test:
	./scripts/test.sh
bench:
	./scripts/bench.sh
