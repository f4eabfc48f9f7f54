#!/usr/bin/env bash
# warta on Apache Kafka, side by side with the broker's own ceiling and a Kafka
# Streams identity topology, in one run on one broker:
#
#   lab/peers/kafka-bench.sh [ROUNDS]        (default 3 rounds, medians reported)
#
# Each round, in this order, on one single-node KRaft broker (.ci/kafka-start,
# port $KAFKA_BENCH_PORT, default 29092):
#   1. ProducerPerformance and ConsumerPerformance (kafka-tools) with records of
#      the seed page event's size: the broker's ceiling for acks=all writes and
#      for reads;
#   2. the Kafka Streams identity peer (lab/peers/kafka-streams) draining
#      $STREAMS_RECORDS seed-sized records, exactly_once_v2;
#   3. `warta bench kafka` at an offered $SUSTAIN_RATE pages/s (above what it
#      can take, so the rate it delivers is its ceiling), exactly-once and
#      at-least-once, then at 1,000 pages/s for the latency figures.
# $WARTA_BENCH_INPUT, when set, is a JSONL file of raw page events that
# `warta bench kafka --input` sends instead of the seed page.
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
perf_records="${PERF_RECORDS:-200000}"
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
bash lab/peers/kafka-streams/run.sh --help >/dev/null 2>&1 || true # builds the jar once

rm -rf "$work/kafka"
bash .ci/kafka-start "$work/kafka" "$port" "$((port + 1))" >&2
trap 'kill "$(cat "$work/kafka/pid")" 2>/dev/null || true' EXIT
b="127.0.0.1:$port"

# Records of the seed page event's size (the bench's default page).
size="$(wc -c <tests/fixtures/seed.jsonl)"
payload="$work/payload.jsonl"
head -1 tests/fixtures/seed.jsonl >"$payload"

topic() { # NAME PARTITIONS
  java -cp "$cp_" org.apache.kafka.tools.TopicCommand --bootstrap-server "$b" --create \
    --topic "$1" --partitions "$2" --replication-factor 1 >/dev/null 2>&1
}
log() { echo "$*" | tee -a "$out" >&2; }

for r in $(seq 1 "$rounds"); do
  log "== round $r"
  topic "perf-$r" 2
  line="$(java -Xmx512m -cp "$cp_" org.apache.kafka.tools.ProducerPerformance --topic "perf-$r" \
    --num-records "$perf_records" --record-size "$size" --throughput -1 \
    --producer-props bootstrap.servers="$b" acks=all linger.ms=5 2>/dev/null | tail -1)"
  log "producer-perf round=$r $(echo "$line" | sed -n 's/.* \([0-9.]*\) records\/sec.*/records_per_second=\1/p') :: $line"
  line="$(java -Xmx512m -cp "$cp_" org.apache.kafka.tools.ConsumerPerformance --bootstrap-server "$b" \
    --topic "perf-$r" --messages "$perf_records" --timeout 60000 2>/dev/null | tail -1)"
  log "consumer-perf round=$r records_per_second=$(echo "$line" | cut -d, -f6 | tr -d ' ') :: $line"

  topic "streams-in-$r" 2
  topic "streams-out-$r" 2
  java -Xmx512m -cp "$cp_" org.apache.kafka.tools.ProducerPerformance --topic "streams-in-$r" \
    --num-records "$streams_records" --payload-file "$payload" --throughput -1 \
    --producer-props bootstrap.servers="$b" acks=all linger.ms=5 >/dev/null 2>&1
  line="$(bash lab/peers/kafka-streams/run.sh "$b" "streams-in-$r" "streams-out-$r" "identity-$r" exactly_once_v2 2>>"$work/streams.log" | tail -1)"
  log "streams-identity-eos round=$r $line"

  input=()
  [ -n "${WARTA_BENCH_INPUT:-}" ] && input=(--input "$WARTA_BENCH_INPUT")
  for delivery in exactly-once at-least-once; do
    line="$(WARTA__KAFKA__DELIVERY=$delivery WARTA__METRICS__ENABLED=false "$warta" bench kafka \
      --brokers "$b" --rate "$sustain" --seconds "$sustain_secs" "${input[@]}" 2>>"$work/warta.log" | tail -1)"
    log "warta-sustained-$delivery round=$r $line"
    line="$(WARTA__KAFKA__DELIVERY=$delivery WARTA__METRICS__ENABLED=false "$warta" bench kafka \
      --brokers "$b" --rate 1000 --seconds 20 "${input[@]}" 2>>"$work/warta.log" | tail -1)"
    log "warta-1000-$delivery round=$r $line"
  done
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
prod = med("producer-perf", "records_per_second")
cons = med("consumer-perf", "records_per_second")
ks = med("streams-identity-eos", "records_per_second")
print(f"{'what':36} {'pages/s':>9} {'p50 ms':>8} {'p99 ms':>8}  ratios (warta / producer, consumer, streams)")
print(f"{'broker ProducerPerformance acks=all':36} {prod:9.0f}")
print(f"{'broker ConsumerPerformance':36} {cons:9.0f}")
print(f"{'Kafka Streams identity, EOS v2':36} {ks:9.0f}")
for d in ("exactly-once", "at-least-once"):
    t = med(f"warta-sustained-{d}", "throughput")
    print(f"{'warta sustained ' + d:36} {t:9.0f} {'':8} {'':8}  {t/prod:.3f} {t/cons:.3f} {t/ks:.3f}")
    t1 = med(f"warta-1000-{d}", "throughput")
    p50 = med(f"warta-1000-{d}", "latency_p50_ms")
    p99 = med(f"warta-1000-{d}", "latency_p99_ms")
    print(f"{'warta at 1,000/s ' + d:36} {t1:9.0f} {p50:8.1f} {p99:8.1f}")
PY
