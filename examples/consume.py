#!/usr/bin/env python3
"""Subscribe to a warta output topic with confluent-kafka and validate every
record against its JSON Schema.

    python examples/consume.py --brokers 127.0.0.1:9092 --group search-indexer \
        [--topic clean-articles] [--schema schemas/clean-articles.v1.json] \
        [--max 100] [--idle-seconds 10]

Reads with isolation.level=read_committed (warta writes in transactions: an
aborted batch is never seen), in a consumer group, with auto-commit off: an
offset is committed only after its record was handled, so a crash re-reads
rather than skips. Unknown fields are fine (a schema version may add optional
ones); a record of another schema version, or one its schema rejects, stops
the consumer with an error. Prints one JSON line per record to stdout.

Needs `confluent-kafka`, `jsonschema` and `rfc3339-validator` (PyPI; pinned in
.ci/consumer-requirements.txt: `bash .ci/consumer-venv` installs them into a
virtualenv and prints its python).
"""

import argparse
import json
import sys
import time

import jsonschema
from confluent_kafka import Consumer, KafkaException

SCHEMA_VERSION = 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--topic", default="clean-articles")
    ap.add_argument(
        "--schema",
        help="schema file (default: schemas/<topic>.v1.json; a prefixed topic "
        "such as test-clean-articles uses the clean-articles schema)",
    )
    ap.add_argument("--max", type=int, default=0, help="stop after N records (0: never)")
    ap.add_argument(
        "--idle-seconds", type=float, default=0, help="stop after this long without a record (0: never)"
    )
    args = ap.parse_args()

    schema_path = args.schema or f"schemas/{schema_name(args.topic)}.v{SCHEMA_VERSION}.json"
    with open(schema_path) as f:
        schema = json.load(f)
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    headers_path = f"schemas/kafka-headers.v{SCHEMA_VERSION}.json"
    with open(headers_path) as f:
        headers_validator = jsonschema.Draft202012Validator(json.load(f))

    consumer = Consumer(
        {
            "bootstrap.servers": args.brokers,
            "group.id": args.group,
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([args.topic])
    seen = 0
    last = time.monotonic()
    try:
        while args.max == 0 or seen < args.max:
            msg = consumer.poll(0.5)
            if msg is None:
                if args.idle_seconds and time.monotonic() - last > args.idle_seconds:
                    break
                continue
            if msg.error():
                raise KafkaException(msg.error())
            last = time.monotonic()
            headers = {k: (v or b"").decode("utf-8") for k, v in (msg.headers() or [])}
            if headers.get("warta-schema") != str(SCHEMA_VERSION):
                sys.exit(f"record {msg.topic()}/{msg.partition()}/{msg.offset()}: schema "
                         f"{headers.get('warta-schema')!r}, this consumer reads {SCHEMA_VERSION}")
            record = json.loads(msg.value())
            errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(record)]
            errors += [f"headers: {e.message}" for e in headers_validator.iter_errors(headers)]
            if errors:
                sys.exit(f"record {msg.topic()}/{msg.partition()}/{msg.offset()} is not valid: {errors}")
            handle(msg, record, headers)
            # Commit after handling: at-least-once for this consumer's own work.
            consumer.commit(message=msg, asynchronous=False)
            seen += 1
    finally:
        consumer.close()


def schema_name(topic):
    # raw-pages-dlq has no value schema in Kafka mode: a dead letter is the input
    # record itself, and the reason is in its headers (docs/events.md).
    for name in ("clean-articles", "clean-headlines", "page-duplicates"):
        if topic.endswith(name):
            return name
    sys.exit(f"no schema for topic {topic!r}: pass --schema")


def handle(msg, record, headers):
    """Where a real consumer indexes or stores the record."""
    print(
        json.dumps(
            {
                "topic": msg.topic(),
                "partition": msg.partition(),
                "offset": msg.offset(),
                "key": msg.key().decode("utf-8") if msg.key() else None,
                "headers": headers,
                "id": record.get("id"),
                "verdict": record.get("verdict"),
                "title": record.get("title"),
                "published_at": (record.get("published_at") or {}).get("value")
                if isinstance(record.get("published_at"), dict)
                else record.get("published_at"),
                "valid": True,
            },
            ensure_ascii=False,
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
