#!/usr/bin/env bash
# The hub-and-spoke demo, end to end on this machine: the local AWS emulator
# (STS, a GitHub-style OIDC issuer, S3) plays GitHub Actions and three AWS
# accounts; tfauth, installed as `terraform`, authenticates all three
# identities from one OIDC token; terraform init, plan and apply run against
# the emulator; the emulator then reports which identity signed each request.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tfver=${TF_VERSION:-1.8.5}
cache=${TFAUTH_TEST_TERRAFORM_DIR:-$HOME/.cache/tfauth/terraform}
realtf=$cache/$tfver/terraform
[ -x "$realtf" ] || { echo "demo: terraform $tfver not found at $realtf; run make terraform" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/tfauth-demo.XXXXXX")
emu_pid=
cleanup() {
  [ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

echo "== building tfauth and the emulator"
mkdir -p "$work/bin" "$work/tmp" "$work/run"
(cd "$root" && go build -o "$work/bin/tfauth" . && go build -o "$work/awsemu" ./internal/awsemu/cmd/awsemu)
ln -s tfauth "$work/bin/terraform"

echo "== starting the local AWS emulator"
"$work/awsemu" -config "$root/examples/hub-spoke/emulator.yaml" -env-file "$work/emu.env" -s3-log "$work/s3.jsonl" &
emu_pid=$!
for _ in $(seq 100); do [ -s "$work/emu.env" ] && break; sleep 0.1; done
[ -s "$work/emu.env" ] || { echo "demo: the emulator did not start" >&2; exit 1; }
# shellcheck disable=SC1091
. "$work/emu.env"
case "$tfver" in
1.5.*) ;;
# Later versions read AWS_ENDPOINT_URL_*; the older names only earn warnings.
*) unset AWS_S3_ENDPOINT AWS_STS_ENDPOINT ;;
esac

cp "$root/examples/hub-spoke/"{main.tf,tfauth.yaml} "$work/run/"
cd "$work/run"
export PATH="$work/bin:$(dirname "$realtf"):$PATH"
export TF_CLI_CONFIG_FILE=/dev/null CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TMPDIR="$work/tmp"
export TFAUTH_LOG=${TFAUTH_LOG:-info}
# A stray key in the caller's environment must not reach terraform.
export AWS_ACCESS_KEY_ID=AKIASTRAYCALLERKEY00 AWS_SECRET_ACCESS_KEY=stray

echo "== terraform $("$realtf" version | head -n1 | cut -d' ' -f2) through tfauth: $(command -v terraform)"
terraform init -input=false -no-color
terraform plan -input=false -no-color -out=tfplan
terraform apply -input=false -no-color tfplan

left=$(find "$work/tmp" -maxdepth 1 -name 'tfauth-*' | wc -l)
echo "== credential directories left behind: $left"
echo "== who signed what (from the emulator's S3 log)"
"$work/awsemu" report -s3-log "$work/s3.jsonl"
[ "$left" -eq 0 ]
