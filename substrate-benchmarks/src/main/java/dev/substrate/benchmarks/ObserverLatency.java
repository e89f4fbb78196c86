package dev.substrate.benchmarks;

import dev.substrate.api.HttpApi;
import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenStore;
import dev.substrate.client.SubstrateClient;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.event.WireCodec;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.TextDelta;
import dev.substrate.kafka.embedded.EmbeddedKafka;
import dev.substrate.stream.RoomStream;
import dev.substrate.streams.StateQueries;
import dev.substrate.streams.SubstrateFold;
import dev.substrate.testing.SampleEvents;
import dev.substrate.testing.SseConnection;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * How long an observer waits for an event, one event at a time, on one embedded broker: raw Kafka produce to
 * consume (the loop of Kafka's {@code EndToEndLatency}: acks=all, {@code send().get()}, then poll until the
 * record arrives), then {@code SubstrateClient} append to a {@code RoomStream} subscriber, then append to an
 * SSE client of {@code GET /v1/rooms/{id}/stream}, with records of the same size, all while one Substrate
 * instance (fold included) runs on the broker. Prints p50, p99 and max of each and the difference to raw;
 * asserts nothing. Run with
 *
 * <pre>
 * java -cp substrate-benchmarks/target/benchmarks.jar dev.substrate.benchmarks.ObserverLatency [events [linger.ms]]
 * </pre>
 */
public final class ObserverLatency {

    private static final Duration WAIT = Duration.ofSeconds(30);

    private ObserverLatency() {}

    public static void main(String[] args) throws Exception {
        int events = args.length > 0 ? Integer.parseInt(args[0]) : 2_000;
        // SubstrateClient sends at once (linger.ms 0, as EndToEndLatency does); pass 5, Kafka 4's default, to
        // see what batching costs an observer.
        String lingerMs = args.length > 1 ? args[1] : "0";
        int warmUp = 200;
        Path dataDir = Files.createTempDirectory("substrate-observer-bench-");
        try (EmbeddedKafka kafka =
                EmbeddedKafka.builder().dataDir(dataDir.resolve("kafka")).start()) {
            SubstrateConfig config = SubstrateConfig.of(Map.of(
                    "bootstrap.servers",
                    kafka.bootstrapServers(),
                    "data.dir",
                    dataDir.resolve("substrate").toString(),
                    "http.port",
                    "0",
                    "linger.ms",
                    lingerMs));
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
                TopicSetup.ensure(admin, Topics.from(config), 6, (short) -1);
                admin.createTopics(List.of(new NewTopic("bench.raw-latency", 1, (short) 1)))
                        .all()
                        .get();
            }
            String roomId = "room-bench";
            int size = WireCodec.ROOM.encode(delta(roomId, 0)).length;
            System.out.printf(
                    "%d events one at a time (%d more to warm up), %d bytes each, acks=all, one broker, the fold "
                            + "running; Substrate's producer with linger.ms=%s, raw with 0%n",
                    events, warmUp, size, lingerMs);

            TokenStore tokens = new TokenStore(dataDir.resolve("tokens.json"));
            String token = tokens.create("bench", Set.of(Role.OPERATOR));
            SubstrateClient client = SubstrateClient.create(config);
            HttpApi api = HttpApi.start(config, client, tokens);
            try (client;
                    api;
                    SubstrateFold fold = SubstrateFold.start(config, api.instance())) {
                api.serve(new StateQueries(fold.streams(), Topics.from(config)), fold.streams()::metrics);
                client.append(SampleEvents.roomEvent(
                                roomId, SampleEvents.roomPayloads().get(0)))
                        .join();
                // Round-robin in rounds of 100, so that the three see the same machine, noise included.
                List<String> names =
                        List.of("raw Kafka produce -> consume", "append -> RoomStream", "append -> SSE client");
                long[][] nanos = new long[3][events];
                try (Way raw = rawKafka(kafka.bootstrapServers(), size);
                        Way stream = roomStream(config, client, roomId);
                        Way sse = sse(api.baseUrl(), token, client, roomId)) {
                    List<Way> paths = List.of(raw, stream, sse);
                    int round = 100;
                    for (int from = -warmUp; from < events; from += round) {
                        for (int p = 0; p < paths.size(); p++) {
                            for (int i = from; i < Math.min(from + round, events); i++) {
                                long took = paths.get(p).once(i);
                                if (i >= 0) {
                                    nanos[p][i] = took;
                                }
                            }
                        }
                    }
                }
                System.out.println();
                System.out.println("| path | p50 | p99 | max | p99 over raw |");
                System.out.println("| --- | --- | --- | --- | --- |");
                for (int p = 0; p < names.size(); p++) {
                    report(names.get(p), nanos[p], nanos[0]);
                }
            }
        }
    }

    private static RoomEvent delta(String roomId, int i) {
        return SampleEvents.roomEvent(roomId, new TextDelta("b1", String.format("%064d", i)));
    }

    /** One way from a writer to an observer, measured one event at a time. */
    private interface Way extends AutoCloseable {
        /** Sends event {@code i} and waits until the observer has it; the nanoseconds that took. */
        long once(int i) throws Exception;

        @Override
        void close();
    }

    /** The loop of Kafka's EndToEndLatency, with its settings: linger 0, acks=all, fetch.max.wait.ms 0. */
    private static Way rawKafka(String bootstrap, int size) {
        TopicPartition partition = new TopicPartition("bench.raw-latency", 0);
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(
                Map.of(
                        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        bootstrap,
                        ProducerConfig.ACKS_CONFIG,
                        "all",
                        ProducerConfig.LINGER_MS_CONFIG,
                        0),
                new ByteArraySerializer(),
                new ByteArraySerializer());
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(
                Map.of(
                        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        bootstrap,
                        ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG,
                        0,
                        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
                        false),
                new ByteArrayDeserializer(),
                new ByteArrayDeserializer());
        consumer.assign(List.of(partition));
        consumer.seekToEnd(List.of(partition));
        consumer.position(partition);
        byte[] value = new byte[size];
        return new Way() {
            @Override
            public long once(int i) throws Exception {
                long start = System.nanoTime();
                producer.send(new ProducerRecord<>(partition.topic(), value)).get();
                ConsumerRecords<byte[], byte[]> received = consumer.poll(WAIT);
                while (received.isEmpty()) {
                    received = consumer.poll(WAIT);
                }
                return System.nanoTime() - start;
            }

            @Override
            public void close() {
                producer.close();
                consumer.close();
            }
        };
    }

    private static Way roomStream(SubstrateConfig config, SubstrateClient client, String roomId) {
        RoomStream stream = RoomStream.create(config);
        RoomStream.Subscription room = stream.subscribe(roomId, RoomStream.From.now());
        return new Way() {
            @Override
            public long once(int i) throws Exception {
                RoomEvent event = delta(roomId, i);
                long start = System.nanoTime();
                client.append(event).join();
                boolean seen = false;
                while (!seen) {
                    for (RoomStream.Entry entry : room.poll(WAIT)) {
                        seen |= entry.event().getEventId().equals(event.getEventId());
                    }
                }
                return System.nanoTime() - start;
            }

            @Override
            public void close() {
                room.close();
                stream.close();
            }
        };
    }

    private static Way sse(String baseUrl, String token, SubstrateClient client, String roomId) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        BlockingQueue<String> arrived = new ArrayBlockingQueue<>(1024);
        awaitRoom(http, baseUrl, token, roomId);
        SseConnection connection = SseConnection.open(
                http,
                baseUrl + "/v1/rooms/" + roomId + "/stream?from=now",
                Map.of("Authorization", "Bearer " + token),
                event -> {
                    if (!arrived.offer(event.data())) {
                        throw new IllegalStateException("the benchmark fell behind its own SSE client");
                    }
                });
        // The stream is open once an event appended after the request arrives.
        String probe;
        do {
            client.append(delta(roomId, -1)).join();
            probe = arrived.poll(1, TimeUnit.SECONDS);
        } while (probe == null);
        return new Way() {
            @Override
            public long once(int i) throws Exception {
                RoomEvent event = delta(roomId, i);
                long start = System.nanoTime();
                client.append(event).join();
                String data;
                do {
                    data = arrived.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                    if (data == null) {
                        throw new IllegalStateException("no SSE event within " + WAIT + ": " + connection.failure());
                    }
                } while (!data.contains(event.getEventId()));
                return System.nanoTime() - start;
            }

            @Override
            public void close() {
                connection.close();
            }
        };
    }

    /** Waits until the fold has the room: the stream checks the reader may read it. */
    private static void awaitRoom(HttpClient http, String baseUrl, String token, String roomId) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            HttpResponse<Void> answer = http.send(
                    HttpRequest.newBuilder(URI.create(baseUrl + "/v1/rooms/" + roomId))
                            .header("Authorization", "Bearer " + token)
                            .build(),
                    HttpResponse.BodyHandlers.discarding());
            if (answer.statusCode() == 200) {
                return;
            }
            Thread.sleep(100); // the fold applies the RoomCreated within a commit interval
        }
        throw new IllegalStateException("room " + roomId + " did not appear within " + WAIT);
    }

    private static void report(String path, long[] nanos, long[] raw) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        long[] rawSorted = raw.clone();
        Arrays.sort(rawSorted);
        double p99 = ms(percentile(sorted, 0.99));
        System.out.printf(
                "| %s | %.2f ms | %.2f ms | %.2f ms | %+.2f ms |%n",
                path,
                ms(percentile(sorted, 0.50)),
                p99,
                ms(sorted[sorted.length - 1]),
                p99 - ms(percentile(rawSorted, 0.99)));
    }

    private static long percentile(long[] sorted, double quantile) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(quantile * sorted.length) - 1)];
    }

    private static double ms(long nanos) {
        return nanos / 1_000_000.0;
    }
}
