package dev.substrate.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenFile;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SharedKafka;
import dev.substrate.testing.TestSettings;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code /ready} and {@code /health} say what the fold does: ready through a rebalance, not once it stops. */
@ExtendWith(SharedKafka.class)
@Timeout(180)
class ReadinessIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path first;

    @TempDir
    Path second;

    @Test
    void anInstanceStaysReadyWhileAnotherJoinsItsApplication(KafkaCluster kafka) throws Exception {
        String prefix = "ready" + UUID.randomUUID().toString().substring(0, 6) + ".";
        TokenFile tokens = new TokenFile(first.resolve("tokens.json"));
        tokens.create("ops", Set.of(Role.OPERATOR));
        try (Admin admin = kafka.admin()) {
            TopicSetup.ensure(admin, Topics.from(config(kafka, prefix, first)), 6, (short) -1);
        }
        try (ApiInstance one = ApiInstance.start(config(kafka, prefix, first), tokens)) {
            await().atMost(Duration.ofSeconds(60)).until(() -> fold(one).equals("running"));
            List<String> seen = new ArrayList<>();
            try (ApiInstance two = ApiInstance.start(config(kafka, prefix, second), tokens)) {
                // Until the newcomer runs and the first instance runs again: the whole rebalance.
                await().atMost(Duration.ofSeconds(90))
                        .pollInterval(Duration.ofMillis(20))
                        .until(() -> {
                            seen.add(fold(one));
                            return fold(two).equals("running") && fold(one).equals("running");
                        });
            }
            System.out.printf(
                    "readiness: the first instance answered /ready %d times during the join: %s%n",
                    seen.size(), new java.util.TreeSet<>(seen));
            assertThat(seen)
                    .as("/ready of the first instance while the second joined")
                    .allMatch(state -> state.equals("running") || state.equals("rebalancing"));
        }
    }

    @Test
    void anInstanceWhoseFoldStoppedIsNotReadyButStillLive(KafkaCluster kafka) throws Exception {
        TokenFile tokens = new TokenFile(first.resolve("tokens.json"));
        try (ApiInstance instance = ApiInstance.startReady(kafka, "stopped", first, tokens)) {
            instance.fold.close();

            HttpResponse<String> ready = ApiCalls.get(instance.url() + "/ready", null);
            assertThat(ready.statusCode()).isEqualTo(503);
            assertThat(JSON.readTree(ready.body()).get("detail").asText()).contains("stopping");
            assertThat(ApiCalls.get(instance.url() + "/health", null).statusCode())
                    .isEqualTo(200);
        }
    }

    /** The fold's state as {@code /ready} tells it: running, rebalancing, or the status code when not ready. */
    private static String fold(ApiInstance instance) throws Exception {
        HttpResponse<String> ready = ApiCalls.get(instance.url() + "/ready", null);
        if (ready.statusCode() != 200) {
            return Integer.toString(ready.statusCode());
        }
        return JSON.readTree(ready.body()).get("fold").asText();
    }

    private static SubstrateConfig config(KafkaCluster kafka, String prefix, Path dataDir) {
        return SubstrateConfig.of(
                TestSettings.of(kafka, prefix, dataDir, prefix + "app", "commit.interval.ms", "50", "http.port", "0"));
    }
}
