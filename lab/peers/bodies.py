"""trafilatura's article bodies on every corpus with body gold, for warta's scorer.

Writes one JSON object {corpus: {page key: body text}} where the page key is the
HTML file's path inside the corpus folder, the same key warta's body eval uses
for the tuning/validation split. Scoring happens in warta's eval (one scorer for
every tool), never here.

usage: bodies.py CORPORA_DIR OUT_JSON  (lab/peers/run.sh runs it)
"""

import csv
import gzip
import json
import sys
import time
from pathlib import Path

import trafilatura


def pages(root):
    aeb = root / "scrapinghub-aeb"
    for key in sorted(json.loads((aeb / "ground-truth.json").read_text())):
        yield "aeb", f"html/{key}.html.gz", aeb
    fundus = root / "fundus-parser-fixtures"
    with open(fundus / "version_to_html_mapping.tsv", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            yield "fundus", f"test_data/{row['group']}/{row['html_file']}", fundus
    rd = root / "mozilla-readability-testpages"
    for case in sorted((rd / "test" / "test-pages").iterdir()):
        yield "readability", f"test/test-pages/{case.name}/source.html.gz", rd


def main():
    root, out = Path(sys.argv[1]), Path(sys.argv[2])
    result, times = {}, []
    for corpus, key, base in pages(root):
        html = gzip.open(base / key).read()
        t = time.perf_counter()
        try:
            body = trafilatura.extract(html, include_comments=False) or ""
        except Exception:  # a crash is an empty body, as warta's eval counts it
            body = ""
        times.append(time.perf_counter() - t)
        result.setdefault(corpus, {})[key] = body
    out.write_text(json.dumps(result, ensure_ascii=False))
    n = sum(len(v) for v in result.values())
    print(f"trafilatura {trafilatura.__version__}: {n} pages in {sum(times):.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
