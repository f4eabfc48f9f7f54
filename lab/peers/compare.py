"""Runs trafilatura on the AEB pages and compares it with warta's predictions.

Both sides are scored here with the same code: AEB's metric (4-gram shingles
over \\w+ tokens, per-page normalised TP/FP/FN, mean precision and recall over
pages, F1 of the means), transcribed from the benchmark's evaluate.py.

usage: compare.py AEB_DIR WARTA_PREDICTIONS_JSON WARTA_EVAL_OUTPUT
"""

import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import trafilatura

TOKEN_RE = re.compile(r"\w+", re.UNICODE | re.MULTILINE | re.IGNORECASE | re.DOTALL)


def shingles(text, n=4):
    tokens = TOKEN_RE.findall(text or "")
    n = min(len(tokens), n)
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def match(true, pred):
    t, p = shingles(true), shingles(pred)
    tp = fp = fn = 0.0
    for key in set(t) | set(p):
        tc, pc = t.get(key, 0), p.get(key, 0)
        tp += min(tc, pc)
        fp += max(0, pc - tc)
        fn += max(0, tc - pc)
    s = tp + fp + fn
    return (tp / s, fp / s, fn / s) if s > 0 else (tp, fp, fn)


def scores(gt, preds):
    ps, rs = [], []
    for key, item in gt.items():
        tp, fp, fn = match(item["articleBody"], preds.get(key, {}).get("articleBody", ""))
        if tp + fp > 0:
            ps.append(tp / (tp + fp))
        if tp + fn > 0:
            rs.append(tp / (tp + fn))
    p, r = statistics.mean(ps), statistics.mean(rs)
    return p, r, 2 * p * r / (p + r)


def main():
    aeb, warta_preds, warta_out = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    gt = json.loads((aeb / "ground-truth.json").read_text())
    pages = {k: gzip.open(aeb / "html" / f"{k}.html.gz").read().decode("utf-8", "replace") for k in gt}
    # Warm-up (imports, caches), then one timed pass, like warta's.
    trafilatura.extract(next(iter(pages.values())))
    preds, times = {}, []
    for key, html in pages.items():
        t = time.perf_counter()
        body = trafilatura.extract(html, include_comments=False)
        times.append(time.perf_counter() - t)
        preds[key] = {"articleBody": body or ""}
    tp, tr, tf = scores(gt, preds)
    t_pps = len(times) / sum(times)
    wp, wr, wf = scores(gt, json.loads(Path(warta_preds).read_text()))
    line = Path(warta_out).read_text().splitlines()[0]
    w_pps = float(re.search(r"pages_per_s=(\d+)", line).group(1))
    w_median = float(re.search(r"median_parse_ms=([\d.]+)", line).group(1))
    print(f"{'':14} {'P':>6} {'R':>6} {'F1':>6} {'median ms':>10} {'pages/s':>8}")
    print(f"{'trafilatura':14} {tp:6.3f} {tr:6.3f} {tf:6.3f} {statistics.median(times) * 1000:10.2f} {t_pps:8.0f}")
    print(f"{'warta':14} {wp:6.3f} {wr:6.3f} {wf:6.3f} {w_median:10.2f} {w_pps:8.0f}")
    print(f"warta/trafilatura: F1 {wf - tf:+.3f}, speed x{w_pps / t_pps:.1f} (pages/s, one core, same {len(pages)} pages)")


if __name__ == "__main__":
    main()
