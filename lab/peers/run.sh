#!/usr/bin/env bash
# Side-by-side peer comparison on the AEB pages (../shared/corpora/scrapinghub-aeb):
# installs trafilatura from PyPI into a venv this script creates, runs it and
# warta on the same 181 pages in one run, scores both with the benchmark's own
# metric (lab/peers/compare.py, a transcription of AEB's evaluate.py), and
# prints quality, pages/s on one core, and their ratio. Then trafilatura's
# bodies on every corpus with body gold (lab/peers/bodies.py), scored by
# `warta-lab eval html --corpus body` beside warta's, tuning and validation
# halves.
#
#   bash lab/peers/run.sh            # trafilatura 2.0.0 (the AEB table's version)
#   TRAFILATURA_VERSION=2.3.1 bash lab/peers/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
here=lab/peers
corpus="${WARTA_AEB_DIR:-../shared/corpora/scrapinghub-aeb}"
venv="${WARTA_PEERS_VENV:-$here/.venv}"
version="${TRAFILATURA_VERSION:-2.0.0}"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
# lxml 5.2+ moved html.clean out; trafilatura 2.0.0 still imports it via justext.
"$venv/bin/pip" install --quiet --disable-pip-version-check "trafilatura==$version" lxml_html_clean

echo "== building warta (release)"
cargo build --release --quiet -p warta-lab
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

echo "== warta on $corpus (one thread)"
taskset -c 0 "${CARGO_TARGET_DIR:-target}/release/warta-lab" eval html --corpus aeb \
  --corpora "$(dirname "$corpus")" --predictions "$out/warta.json" | tee "$out/warta.txt"

echo "== trafilatura $version on the same pages (one thread)"
taskset -c 0 "$venv/bin/python" "$here/compare.py" "$corpus" "$out/warta.json" "$out/warta.txt"

echo "== body extraction on AEB, Fundus and the Readability pages, both halves, trafilatura $version beside"
"$venv/bin/python" "$here/bodies.py" "$(dirname "$corpus")" "$out/trafilatura-bodies.json"
"${CARGO_TARGET_DIR:-target}/release/warta-lab" eval html --corpus body \
  --corpora "$(dirname "$corpus")" --peer-bodies "$out/trafilatura-bodies.json"
