#!/usr/bin/env bash
# Builds the Kafka Streams identity peer with Maven (once) and runs it:
#
#   lab/peers/kafka-streams/run.sh BROKERS INPUT OUTPUT APPLICATION_ID [exactly_once_v2|at_least_once]
#
# Prints `records=N seconds=S records_per_second=R guarantee=G` once the
# application has committed the whole input topic (see Identity.java).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
jar="$here/target/kafka-streams-identity-1.jar"
if [ ! -f "$jar" ] || [ "$here/pom.xml" -nt "$jar" ] || [ "$here/src/main/java/warta/peer/Identity.java" -nt "$jar" ]; then
  mvn -B -q -f "$here/pom.xml" package -DskipTests >&2
fi
exec java -Xmx512m -XX:+UseG1GC -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "$jar:$here/target/libs/*" warta.peer.Identity "$@"
