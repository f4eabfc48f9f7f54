package warta.peer;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

/**
 * A Kafka Streams identity topology: every record of INPUT is written to OUTPUT
 * unchanged, exactly_once_v2 (or at_least_once), one stream thread. Run over an
 * input topic that is already full, it measures how fast Kafka Streams moves
 * records through a transactional consume -> produce loop on this broker.
 *
 * <p>Usage: Identity BROKERS INPUT OUTPUT APPLICATION_ID [exactly_once_v2|at_least_once]
 *
 * <p>Prints one line when the application's committed offsets reach the input's
 * end: {@code records=N seconds=S records_per_second=R guarantee=G}. The clock
 * starts at the first record the topology sees, so start-up and the group join
 * are not counted.
 */
public final class Identity {
    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: Identity BROKERS INPUT OUTPUT APPLICATION_ID [exactly_once_v2|at_least_once]");
            System.exit(2);
        }
        String brokers = args[0];
        String input = args[1];
        String output = args[2];
        String appId = args[3];
        String guarantee = args.length > 4 ? args[4] : StreamsConfig.EXACTLY_ONCE_V2;

        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        p.put(StreamsConfig.STATE_DIR_CONFIG, System.getProperty("java.io.tmpdir") + "/kstreams-" + appId);
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");

        AtomicLong firstSeen = new AtomicLong(0);
        StreamsBuilder b = new StreamsBuilder();
        b.stream(input, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
            .peek((k, v) -> firstSeen.compareAndSet(0, System.nanoTime()))
            .to(output, Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));

        Properties ap = new Properties();
        ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        try (Admin admin = Admin.create(ap);
             KafkaStreams streams = new KafkaStreams(b.build(), p)) {
            List<TopicPartition> parts = admin.describeTopics(List.of(input)).allTopicNames().get()
                .get(input).partitions().stream()
                .map(i -> new TopicPartition(input, i.partition())).toList();
            ListOffsetsResult ends = admin.listOffsets(
                parts.stream().collect(java.util.stream.Collectors.toMap(tp -> tp, tp -> OffsetSpec.latest())));
            long total = 0;
            for (TopicPartition tp : parts) {
                total += ends.partitionResult(tp).get().offset();
            }
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(stopped::countDown));
            streams.start();
            long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
            while (System.nanoTime() < deadline && stopped.getCount() > 0) {
                Map<TopicPartition, OffsetAndMetadata> done =
                    admin.listConsumerGroupOffsets(appId).partitionsToOffsetAndMetadata().get();
                long committed = 0;
                for (TopicPartition tp : parts) {
                    OffsetAndMetadata o = done.get(tp);
                    committed += o == null ? 0 : o.offset();
                }
                if (committed >= total && firstSeen.get() != 0) {
                    double secs = (System.nanoTime() - firstSeen.get()) / 1e9;
                    System.out.printf("records=%d seconds=%.3f records_per_second=%.0f guarantee=%s%n",
                        total, secs, total / secs, guarantee);
                    return;
                }
                Thread.sleep(50);
            }
            System.err.println("the input was not consumed within 10 minutes");
            System.exit(1);
        }
    }
}
