#!/usr/bin/env bash
# One nightly audit for CI (the GitHub Action and the GitLab component run it): vod-audit run with
# the inputs below, the summary where the CI shows it, outputs for later steps, the gate's exit code.
#   VOD_AUDIT_MANIFEST (required), VOD_AUDIT_OUT (vod-audit-reports), VOD_AUDIT_STATE
#   (.vod-audit/state.db), VOD_AUDIT_FAIL_ON (any), VOD_AUDIT_FORMATS (space-separated; all),
#   VOD_AUDIT_ARGS (more flags), VOD_AUDIT_SIGNING_KEY (a private key's text, from a secret; loaded
#   into an ssh-agent of this script, never written to a file), VOD_AUDIT_SIGN_PASSPHRASE.
set -uo pipefail

: "${VOD_AUDIT_MANIFEST:?set VOD_AUDIT_MANIFEST to the manifest to audit}"
out="${VOD_AUDIT_OUT:-vod-audit-reports}"
args=(run "$VOD_AUDIT_MANIFEST" --out "$out" --state "${VOD_AUDIT_STATE:-.vod-audit/state.db}"
  --fail-on "${VOD_AUDIT_FAIL_ON:-any}" --no-progress)
for format in ${VOD_AUDIT_FORMATS:-}; do args+=(--format "$format"); done

if [ -n "${VOD_AUDIT_SIGNING_KEY:-}" ]; then
  work="$(mktemp -d)"
  eval "$(ssh-agent -s)" >/dev/null
  trap 'ssh-agent -k >/dev/null 2>&1; rm -rf "$work"' EXIT
  askpass="$work/askpass"  # prints the passphrase from the environment: holds no secret
  printf '#!/bin/sh\nprintf "%%s\\n" "$VOD_AUDIT_SIGN_PASSPHRASE"\n' >"$askpass"
  chmod 700 "$askpass"
  printf '%s\n' "$VOD_AUDIT_SIGNING_KEY" | SSH_ASKPASS="$askpass" SSH_ASKPASS_REQUIRE=force ssh-add -q - \
    || { echo "vod-audit: the signing key could not be loaded into ssh-agent" >&2; exit 1; }
  public="$work/signing-key.pub"
  ssh-add -L >"$public"
  args+=(--sign-key "$public")
fi

# A folder kept between runs (a self-hosted runner) holds the last run's set: what this run did not
# write must not be read as its own.
before=$(sha256sum "$out/results.json" 2>/dev/null || true)
# shellcheck disable=SC2086  # VOD_AUDIT_ARGS is a list of flags, split on purpose
vod-audit "${args[@]}" ${VOD_AUDIT_ARGS:-}
code=$?
results="$out/results.json"
if [ ! -f "$results" ] || [ "$(sha256sum "$results" 2>/dev/null || true)" = "$before" ]; then
  results=/nonexistent  # this run wrote no set: no verdict, counts or summary of another run
fi

verdict=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["verdict"])' "$results" 2>/dev/null || echo "ERROR")
counts=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps(d["counts"], separators=(",", ":")))' "$results" 2>/dev/null || echo "{}")
new=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["changes"].get("new", 0))' "$results" 2>/dev/null || echo 0)
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  gate=$([ "$code" = 0 ] && echo passed || echo failed)
  { echo "verdict=$verdict"; echo "gate=$gate"; echo "exit-code=$code"; echo "counts=$counts"; echo "new=$new"; echo "report-dir=$out"; } >>"$GITHUB_OUTPUT"
fi
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  if [ "$results" != /nonexistent ] && [ -f "$out/summary.md" ]; then
    cat "$out/summary.md" >>"$GITHUB_STEP_SUMMARY"
  else
    printf '## vod-audit: ERROR\n\nThe run wrote no report set (exit %s); its log says why.\n' "$code" >>"$GITHUB_STEP_SUMMARY"
  fi
fi
if [ -n "${GITLAB_CI:-}" ]; then
  # Beside the sealed set, never in it: a file added to the folder would fail `vod-audit verify`.
  { echo "VOD_AUDIT_VERDICT=$verdict"; echo "VOD_AUDIT_EXIT_CODE=$code"; echo "VOD_AUDIT_NEW=$new"; } >"${VOD_AUDIT_DOTENV:-vod-audit.env}"
fi
exit "$code"
