#!/usr/bin/env bash
# warta on Apache Kafka, side by side with the broker's own ceiling and a Kafka
# Streams identity topology, in one run on one broker:
#
#   lab/peers/kafka-bench.sh [ROUNDS]        (default 3 rounds, medians reported)
#
# Each round, for the seed page and then for the AEB HTML pages, on one
# single-node KRaft broker (.ci/kafka-start, port $KAFKA_BENCH_PORT, default
# 29092):
#   1. ProducerPerformance and ConsumerPerformance (kafka-tools) sending the
#      same events: the broker's ceiling for acks=all writes and for reads;
#   2. the Kafka Streams identity peer (lab/peers/kafka-streams) draining a
#      topic full of the same events, exactly_once_v2;
#   3. `warta bench kafka --input`, exactly-once and at-least-once: at an
#      offered $SUSTAIN_RATE pages/s (above what it takes, so the rate it
#      delivers is its ceiling), then at 1,000 pages/s for the latency.
#
# Writes every raw line to $OUT (default target/kafka-bench/results.txt) and a
# summary with medians and ratios to stdout.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
rounds="${1:-3}"
port="${KAFKA_BENCH_PORT:-29092}"
sustain="${SUSTAIN_RATE:-8000}"
sustain_secs="${SUSTAIN_SECONDS:-10}"
streams_records="${STREAMS_RECORDS:-50000}"
perf_records="${PERF_RECORDS:-100000}"
work="${KAFKA_BENCH_DIR:-$root/target/kafka-bench}"
out="${OUT:-$work/results.txt}"
mkdir -p "$work"
: >"$out"

home="$(bash .ci/install-kafka | tail -1)"
cp_="$home/libs/*"
warta="${WARTA_BIN:-}"
if [ -z "$warta" ]; then
  cargo build --release --bin warta >&2
  warta="$root/target/release/warta"
fi
bash lab/peers/kafka-streams/run.sh >/dev/null 2>&1 || true # builds the jar once (usage exit)

rm -rf "$work/kafka"
bash .ci/kafka-start "$work/kafka" "$port" "$((port + 1))" >&2
trap 'kill "$(cat "$work/kafka/pid")" 2>/dev/null || true' EXIT
b="127.0.0.1:$port"

# Two inputs: the seed page (text, about 4 KB an event) and the AEB HTML pages
# (about 157 KB on average). The broker's tools and the Streams peer send the
# same events (--payload-file), so the record sizes are the same.
seed="$work/seed.jsonl"
head -1 tests/fixtures/seed.jsonl >"$seed"
aeb="${AEB_JSONL:-$work/aeb.jsonl}"
[ -s "$aeb" ] || python3 lab/peers/aeb-jsonl.py "${AEB_DIR:-../shared/corpora/scrapinghub-aeb}" >"$aeb"

topic() { # NAME PARTITIONS
  java -cp "$cp_" org.apache.kafka.tools.TopicCommand --bootstrap-server "$b" --create \
    --topic "$1" --partitions "$2" --replication-factor 1 >/dev/null 2>&1
}
drop_topics() { # the disk is small: each round deletes what it wrote
  java -cp "$cp_" org.apache.kafka.tools.TopicCommand --bootstrap-server "$b" --delete \
    --topic '(perf|streams|bench).*' >/dev/null 2>&1 || true
}
log() { echo "$*" | tee -a "$out" >&2; }

# peers INPUT_NAME PAYLOAD_FILE PERF_RECORDS STREAMS_RECORDS
peers() {
  local name="$1" payload="$2" n="$3" ns="$4" line
  topic "perf-$name-$r" 2
  line="$(java -Xmx512m -cp "$cp_" org.apache.kafka.tools.ProducerPerformance --topic "perf-$name-$r" \
    --num-records "$n" --payload-file "$payload" --throughput -1 \
    --producer-props bootstrap.servers="$b" acks=all linger.ms=5 2>/dev/null | tail -1)"
  log "producer-perf-$name round=$r $(echo "$line" | sed -n 's/.* \([0-9.]*\) records\/sec.*/records_per_second=\1/p') :: $line"
  line="$(java -Xmx512m -cp "$cp_" org.apache.kafka.tools.ConsumerPerformance --bootstrap-server "$b" \
    --topic "perf-$name-$r" --messages "$n" --timeout 60000 2>/dev/null | tail -1)"
  log "consumer-perf-$name round=$r records_per_second=$(echo "$line" | cut -d, -f6 | tr -d ' ') :: $line"
  topic "streams-in-$name-$r" 2
  topic "streams-out-$name-$r" 2
  java -Xmx512m -cp "$cp_" org.apache.kafka.tools.ProducerPerformance --topic "streams-in-$name-$r" \
    --num-records "$ns" --payload-file "$payload" --throughput -1 \
    --producer-props bootstrap.servers="$b" acks=all linger.ms=5 >/dev/null 2>&1
  line="$(bash lab/peers/kafka-streams/run.sh "$b" "streams-in-$name-$r" "streams-out-$name-$r" \
    "streams-identity-$name-$r" exactly_once_v2 2>>"$work/streams.log" | tail -1)"
  log "streams-identity-$name round=$r $line"
}

# wartas INPUT_NAME INPUT_FILE SUSTAIN_RATE SUSTAIN_SECONDS
wartas() {
  local name="$1" file="$2" rate="$3" secs="$4" line delivery
  for delivery in exactly-once at-least-once; do
    line="$(WARTA__KAFKA__DELIVERY=$delivery WARTA__METRICS__ENABLED=false "$warta" bench kafka \
      --brokers "$b" --rate "$rate" --seconds "$secs" --input "$file" 2>>"$work/warta.log" | tail -1)"
    log "warta-sustained-$name-$delivery round=$r $line"
    if [ "$rate" != 1000 ]; then
      line="$(WARTA__KAFKA__DELIVERY=$delivery WARTA__METRICS__ENABLED=false "$warta" bench kafka \
        --brokers "$b" --rate 1000 --seconds 15 --input "$file" 2>>"$work/warta.log" | tail -1)"
    fi
    log "warta-1000-$name-$delivery round=$r $line"
  done
}

for r in $(seq 1 "$rounds"); do
  log "== round $r"
  peers seed "$seed" "$perf_records" "$streams_records"
  wartas seed "$seed" "$sustain" "$sustain_secs"
  drop_topics
  peers aeb "$aeb" "${AEB_PERF_RECORDS:-1000}" "${AEB_STREAMS_RECORDS:-1000}"
  # AEB pages cost far more to parse than to move: 1,000/s for 8 s is both
  # the sustained run and the latency run (about 1.3 GB of input).
  wartas aeb "$aeb" 1000 "${AEB_SECONDS:-8}"
  drop_topics
done

python3 - "$out" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"(\S+) round=\d+ (.*)", line)
    if not m:
        continue
    kv = dict(re.findall(r"(\w+)=([0-9.]+)", m.group(2).split(" :: ")[0]))
    rows.setdefault(m.group(1), []).append(kv)
def med(name, key):
    xs = [float(r[key]) for r in rows.get(name, []) if key in r]
    return statistics.median(xs) if xs else float("nan")
for inp in ("seed", "aeb"):
    prod = med(f"producer-perf-{inp}", "records_per_second")
    cons = med(f"consumer-perf-{inp}", "records_per_second")
    ks = med(f"streams-identity-{inp}", "records_per_second")
    n = len(rows.get(f"streams-identity-{inp}", []))
    print(f"\n{inp} pages (medians of {n} rounds)")
    print(f"{'what':40} {'pages/s':>9} {'p50 ms':>8} {'p99 ms':>8}  warta / producer, consumer, streams")
    print(f"{'ProducerPerformance acks=all':40} {prod:9.0f}")
    print(f"{'ConsumerPerformance':40} {cons:9.0f}")
    print(f"{'Kafka Streams identity, exactly_once_v2':40} {ks:9.0f}")
    for d in ("exactly-once", "at-least-once"):
        t = med(f"warta-sustained-{inp}-{d}", "throughput")
        print(f"{'warta sustained, ' + d:40} {t:9.0f} {'':8} {'':8}  {t/prod:.3f} {t/cons:.3f} {t/ks:.3f}")
        t1 = med(f"warta-1000-{inp}-{d}", "throughput")
        p50 = med(f"warta-1000-{inp}-{d}", "latency_p50_ms")
        p99 = med(f"warta-1000-{inp}-{d}", "latency_p99_ms")
        print(f"{'warta at 1,000/s offered, ' + d:40} {t1:9.0f} {p50:8.1f} {p99:8.1f}")
PY
