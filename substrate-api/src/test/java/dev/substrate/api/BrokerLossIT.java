package dev.substrate.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenFile;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.testing.MultiBrokerCluster;
import dev.substrate.testing.RunLoad;
import dev.substrate.testing.TestSettings;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A substrate on three brokers (replication factor 3, {@code min.insync.replicas=2}) under sustained appends
 * and queries: one broker is stopped, then started again. Appends and queries go on throughout, and every
 * acknowledged append is in the state exactly once.
 */
@Timeout(400)
class BrokerLossIT {

    private static final Logger log = LoggerFactory.getLogger(BrokerLossIT.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dataDir;

    private MultiBrokerCluster cluster;
    private ApiInstance instance;

    @AfterEach
    void stop() {
        if (instance != null) {
            instance.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void appendsAndQueriesGoOnWhileABrokerIsDownAndNothingAcknowledgedIsLost() throws Exception {
        cluster = MultiBrokerCluster.start(3, Map.of("min.insync.replicas", "2", "default.replication.factor", "3"));
        SubstrateConfig config = SubstrateConfig.of(
                TestSettings.of(cluster, "loss.", dataDir, "loss-app", "commit.interval.ms", "100", "http.port", "0"));
        try (Admin admin = cluster.admin()) {
            TopicSetup.ensure(admin, Topics.from(config), 3, (short) 3);
        }
        String token = new TokenFile(dataDir.resolve("tokens.json")).create("ops", Set.of(Role.ADMIN));
        instance = ApiInstance.start(config, new TokenFile(dataDir.resolve("tokens.json")));
        await().atMost(Duration.ofMinutes(2))
                .until(() -> ApiCalls.get(instance.url() + "/ready", null).statusCode() == 200);

        Map<String, Integer> queries = new ConcurrentHashMap<>();
        AtomicBoolean querying = new AtomicBoolean(true);
        int acknowledgedBefore;
        int acknowledgedWhileDown;
        int victim;
        try (RunLoad load = RunLoad.start(instance::url, token, "loss", 3)) {
            Thread reader = new Thread(() -> query(load, token, queries, querying), "queries");
            reader.start();
            Thread.sleep(2_000); // load on all three brokers first: a fixed stretch of load, not a wait
            victim = leaderOfRunEventsPartitionZero(config);
            acknowledgedBefore = load.acknowledgedEvents();
            Map<String, Integer> queriesBefore = new TreeMap<>(queries);
            cluster.stopBroker(victim);
            log.info("Stopped broker {} after {} acknowledged appends", victim, acknowledgedBefore);
            Thread.sleep(6_000); // the outage itself: six seconds of load with the broker down
            acknowledgedWhileDown = load.acknowledgedEvents() - acknowledgedBefore;
            Map<String, Integer> queriesWhileDown = difference(queries, queriesBefore);
            cluster.startBroker(victim);
            log.info(
                    "Started broker {} again; {} appends acknowledged while it was down; queries while down: {}",
                    victim,
                    acknowledgedWhileDown,
                    queriesWhileDown);
            Thread.sleep(3_000); // load after the broker is back, while it catches up
            load.stop();
            querying.set(false);
            reader.join();
            assertThat(acknowledgedWhileDown)
                    .as("appends acknowledged while a broker was down")
                    .isPositive();
            assertThat(queriesWhileDown.getOrDefault("200", 0))
                    .as("queries answered while a broker was down")
                    .isPositive();

            Map<String, Integer> acknowledged = load.acknowledged();
            await().atMost(Duration.ofMinutes(3))
                    .pollInterval(Duration.ofSeconds(1))
                    .until(() -> acknowledged.keySet().stream()
                            .allMatch(runId -> version(runId, token) == RunLoad.EVENTS_PER_RUN));
            int total = load.acknowledgedEvents();
            log.info(
                    "Broker {} stopped for 6 s: {} appends acknowledged over {} runs ({} while it was down, {}"
                            + " retried); every run holds exactly its {} events; queries {}; lost 0, duplicated 0",
                    victim,
                    total,
                    acknowledged.size(),
                    acknowledgedWhileDown,
                    load.retries(),
                    RunLoad.EVENTS_PER_RUN,
                    queries);
            // 404 is a run acknowledged but not folded yet; never a 500, never a hung request.
            assertThat(queries.keySet()).as("query answers: %s", queries).isSubsetOf("200", "404", "503");
        }
    }

    /** The broker leading partition 0 of the run log, so that stopping it moves a leader. */
    private int leaderOfRunEventsPartitionZero(SubstrateConfig config) throws Exception {
        String topic = Topics.from(config).runEvents().name();
        try (Admin admin = cluster.admin()) {
            TopicDescription description =
                    admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
            return description.partitions().get(0).leader().id();
        }
    }

    private void query(RunLoad load, String token, Map<String, Integer> statuses, AtomicBoolean querying) {
        List<String> runIds = new ArrayList<>();
        while (querying.get()) {
            if (runIds.size() < 50) {
                runIds = new ArrayList<>(load.acknowledged().keySet());
            }
            if (runIds.isEmpty()) {
                continue;
            }
            String runId = runIds.get((int) (Math.random() * runIds.size()));
            try {
                int status = ApiCalls.get(instance.url() + "/v1/runs/" + runId, token)
                        .statusCode();
                statuses.merge(String.valueOf(status), 1, Integer::sum);
                Thread.sleep(20); // paces the queries, about 50 a second
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                statuses.merge(e.getClass().getSimpleName(), 1, Integer::sum);
            }
        }
    }

    /** The run's version as the API answers it now; -1 while it cannot say. */
    private long version(String runId, String token) {
        try {
            HttpResponse<String> answer = ApiCalls.get(instance.url() + "/v1/runs/" + runId, token);
            return answer.statusCode() == 200
                    ? JSON.readTree(answer.body()).path("version").asLong()
                    : -1;
        } catch (Exception e) {
            return -1;
        }
    }

    private static Map<String, Integer> difference(Map<String, Integer> now, Map<String, Integer> before) {
        Map<String, Integer> difference = new TreeMap<>();
        now.forEach((status, count) -> difference.put(status, count - before.getOrDefault(status, 0)));
        return difference;
    }
}
