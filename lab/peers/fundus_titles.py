"""Titles on Fundus's per-publisher fixtures, trafilatura beside warta.

Usage (from the repo root, after `bash lab/peers/run.sh` made the venv):
    lab/peers/.venv/bin/python lab/peers/fundus_titles.py [CORPUS_DIR]

Scores trafilatura's `extract_metadata` title with the rule warta's
`eval html --corpus fundus` uses (lab/src/eval_html.rs `same_title`: whitespace
collapsed, quote styles unified, invisible characters dropped), on every row of
version_to_html_mapping.tsv, and runs warta's own eval for the same figure.
"""
import gzip
import subprocess
import sys

from trafilatura.metadata import extract_metadata

root = sys.argv[1] if len(sys.argv) > 1 else "../shared/corpora/fundus-parser-fixtures"


def norm(s):
    for c in "\u200b\u00ad\u2060\ufeff":
        s = s.replace(c, "")
    s = " ".join(s.split())
    for c in "“”„«»":
        s = s.replace(c, '"')
    for c in "‘’":
        s = s.replace(c, "'")
    return s


rows = [l.rstrip("\n").split("\t") for l in open(f"{root}/version_to_html_mapping.tsv")][1:]
n = ok = 0
for r in rows:
    if len(r) < 8:
        continue
    group, _pub, _version, file, url = r[:5]
    expected = r[6]
    html = gzip.open(f"{root}/test_data/{group}/{file}").read()
    try:
        meta = extract_metadata(html, default_url=url)
        title = (meta.title if meta else None) or ""
    except Exception:  # a crash is a miss, as in warta's eval
        title = ""
    n += 1
    ok += norm(title) == norm(expected)
print(f"trafilatura: pages={n} title={ok / n:.3f} ({ok}/{n})")
out = subprocess.run(
    ["target/release/warta-lab", "eval", "html", "--corpus", "fundus", "--corpora", root.rsplit("/", 1)[0]],
    capture_output=True, text=True, check=True,
).stdout
print("warta:", out.splitlines()[0])
