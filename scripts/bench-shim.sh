#!/usr/bin/env bash
# Measures the shim's overhead against bare terraform, side by side in one
# run, for each cached real terraform version. Results go in docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${TFAUTH_TEST_TERRAFORM_DIR:-$HOME/.cache/tfauth/terraform}"
go build -o bin/tfauth .
go build -o bin/floorshim ./internal/shimbench/floorshim
for v in 1.5.7 1.8.5; do
  [ -x "$cache/$v/terraform" ] || { echo "terraform $v missing in $cache (run make terraform)" >&2; exit 1; }
  echo "terraform $v:"
  go run ./internal/shimbench -terraform "$cache/$v/terraform" -tfauth "$PWD/bin/tfauth" -floor "$PWD/bin/floorshim" -pairs "${PAIRS:-40}"
done
