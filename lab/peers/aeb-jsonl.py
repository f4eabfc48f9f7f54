#!/usr/bin/env python3
"""Writes the AEB corpus (scrapinghub article-extraction-benchmark) as raw page
events, one JSON object a line ({"url", "fetched_at", "content"}), the input
`warta bench kafka --input` and the Kafka peers take.

    python3 lab/peers/aeb-jsonl.py CORPUS_DIR > aeb.jsonl

CORPUS_DIR holds ground-truth.json and html/<id>.html.gz. The HTML is decoded
as UTF-8 with replacement characters (a benchmark input, not an evaluation).
Pages whose event exceeds MAX_EVENT_BYTES are left out (and counted on
stderr): Kafka's default record limit is 1 MB, and warta's outputs of such a
page would not fit either.
"""
import gzip
import json
import pathlib
import sys

MAX_EVENT_BYTES = 900_000


def main() -> None:
    corpus = pathlib.Path(sys.argv[1])
    truth = json.loads((corpus / "ground-truth.json").read_text(encoding="utf-8"))
    skipped = 0
    for page_id in sorted(truth):
        path = corpus / "html" / f"{page_id}.html.gz"
        html = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
        event = {
            "url": truth[page_id].get("url") or f"https://aeb.example/{page_id}",
            "fetched_at": "2025-12-31T05:00:00Z",
            "content": html,
        }
        line = json.dumps(event, ensure_ascii=False)
        if len(line.encode("utf-8")) > MAX_EVENT_BYTES:
            skipped += 1
            continue
        sys.stdout.write(line + "\n")
    print(f"aeb-jsonl: {len(truth) - skipped} pages, {skipped} over {MAX_EVENT_BYTES} bytes left out", file=sys.stderr)


if __name__ == "__main__":
    main()
