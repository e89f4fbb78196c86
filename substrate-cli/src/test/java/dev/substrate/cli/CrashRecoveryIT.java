package dev.substrate.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenFile;
import dev.substrate.api.internal.AvroJson;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.config.TopicSettings;
import dev.substrate.event.EventValidator;
import dev.substrate.event.WireCodec;
import dev.substrate.fold.InMemoryFold;
import dev.substrate.state.RunState;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.RunLoad;
import dev.substrate.testing.SharedKafka;
import dev.substrate.testing.TestRecords;
import dev.substrate.testing.TestSettings;
import dev.substrate.topic.Topics;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real {@code substrate serve} in a child JVM, appended to over HTTP by four clients without pause, killed
 * with SIGKILL at random moments and restarted on the same data directory. Clients retry what was not
 * acknowledged with the same event id, as the API asks. Afterwards every acknowledged append is in the state
 * exactly once, and the state equals the pure fold of the log.
 *
 * <p>Three kills by default; {@code -Dsubstrate.soak=true} makes it ten, with longer load between them.
 */
@ExtendWith(SharedKafka.class)
@Timeout(900)
class CrashRecoveryIT {

    private static final Logger log = LoggerFactory.getLogger(CrashRecoveryIT.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final boolean SOAK = Boolean.getBoolean("substrate.soak");
    private static final int KILLS = SOAK ? 10 : 3;
    private static final int WORKERS = 4;

    @TempDir
    Path dataDir;

    private final HttpClient http = HttpClient.newHttpClient();
    private volatile String url;
    private String token;

    @Test
    void everyAcknowledgedAppendSurvivesSigkillExactlyOnce(KafkaCluster kafka) throws Exception {
        String prefix = "crash" + UUID.randomUUID().toString().substring(0, 6) + ".";
        token = new TokenFile(dataDir.resolve("tokens.json")).create("ops", Set.of(Role.ADMIN));
        Map<String, String> environment = Map.of(
                "SUBSTRATE_BOOTSTRAP_SERVERS",
                kafka.bootstrapServers(),
                "SUBSTRATE_CLUSTER_SECRET",
                TestSettings.CLUSTER_SECRET,
                "SUBSTRATE_HTTP_PORT",
                "0",
                "SUBSTRATE_TOPIC_PREFIX",
                prefix,
                "SUBSTRATE_TOPIC_PARTITIONS",
                "3",
                "SUBSTRATE_APPLICATION_ID",
                prefix + "app",
                // A killed member never says goodbye: the group notices after the session timeout.
                "SUBSTRATE_KAFKA_SESSION_TIMEOUT_MS",
                "6000",
                "SUBSTRATE_KAFKA_COMMIT_INTERVAL_MS",
                "100");
        Random random = new Random();
        List<SubstrateProcess> processes = new ArrayList<>();
        List<Integer> acknowledgedAtKill = new ArrayList<>();
        processes.add(start(environment));
        try (RunLoad load = RunLoad.start(() -> url, token, "crash", WORKERS)) {
            for (int kill = 0; kill < KILLS; kill++) {
                // A random stretch of load before the kill, so that it lands anywhere in the process's work.
                Thread.sleep(SOAK ? 5_000 + random.nextInt(20_000) : 1_500 + random.nextInt(3_000));
                int exit = processes.get(processes.size() - 1).kill();
                acknowledgedAtKill.add(load.acknowledgedEvents());
                log.info(
                        "Kill {}: SIGKILL (exit {}) after {} acknowledged appends",
                        kill + 1,
                        exit,
                        load.acknowledgedEvents());
                processes.add(start(environment));
            }
            Thread.sleep(2_000); // load on the last process too, not only its start
            load.stop();
            Map<String, Integer> acknowledged = load.acknowledged();

            // Every acknowledged append is in the state, exactly once: each run holds its five events.
            await().atMost(Duration.ofMinutes(3))
                    .pollInterval(Duration.ofMillis(500))
                    .until(() ->
                            acknowledged.keySet().stream().allMatch(runId -> version(runId) == RunLoad.EVENTS_PER_RUN));

            // The state equals the pure fold of the log, records the clients sent twice included.
            InMemoryFold reference = new InMemoryFold(new EventValidator(1024 * 1024, Clock.systemUTC()));
            List<ConsumerRecord<String, byte[]>> records = TestRecords.readAll(
                    kafka,
                    Topics.from(SubstrateConfig.of(Map.of(TopicSettings.PREFIX.key(), prefix)))
                            .runEvents()
                            .name());
            Map<String, Integer> copies = new HashMap<>();
            for (ConsumerRecord<String, byte[]> record : records) {
                var event = WireCodec.RUN.decode(record.value());
                copies.merge(event.getEventId(), 1, Integer::sum);
                reference.apply(event, record.partition(), record.offset(), Instant.ofEpochMilli(record.timestamp()));
            }
            assertThat(reference.runs().keySet()).isEqualTo(acknowledged.keySet());
            for (Map.Entry<String, RunState> run : reference.runs().entrySet()) {
                assertThat(run.getValue().getVersion()).isEqualTo(RunLoad.EVENTS_PER_RUN);
                JsonNode state = JSON.readTree(get("/v1/runs/" + run.getKey()).body());
                assertThat(state)
                        .as(run.getKey())
                        .isEqualTo(JSON.readTree(AvroJson.toJson(run.getValue()).toString()));
            }
            int events =
                    acknowledged.values().stream().mapToInt(Integer::intValue).sum();
            long written = copies.values().stream().filter(count -> count > 1).count();
            log.info(
                    "{} kills at {} acknowledged appends; {} appends acknowledged over {} runs, {} retried after a"
                            + " failure; {} records in the log, {} events written twice and folded once;"
                            + " lost 0, duplicated 0",
                    KILLS,
                    acknowledgedAtKill,
                    events,
                    acknowledged.size(),
                    load.retries(),
                    records.size(),
                    written);
            assertThat(copies).hasSize(events);
        } finally {
            for (SubstrateProcess process : processes) {
                process.close();
            }
        }
    }

    private SubstrateProcess start(Map<String, String> environment) {
        SubstrateProcess process = SubstrateProcess.start(environment, "serve", "--data-dir", dataDir.toString());
        url = process.awaitOutput("HTTP\\s+(\\S+)", Duration.ofSeconds(90));
        return process;
    }

    /** The run's version as the API answers it now; -1 while it cannot say. */
    private long version(String runId) {
        try {
            HttpResponse<String> answer = get("/v1/runs/" + runId);
            return answer.statusCode() == 200
                    ? JSON.readTree(answer.body()).path("version").asLong()
                    : -1;
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(URI.create(url + path))
                        .timeout(Duration.ofSeconds(10))
                        .header("Authorization", "Bearer " + token)
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
