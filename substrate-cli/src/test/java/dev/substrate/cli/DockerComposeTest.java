package dev.substrate.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.substrate.config.HttpSettings;
import dev.substrate.config.SubstrateConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The root docker-compose.yml parses, has the promised cluster shape, and sets only settings Substrate reads. */
class DockerComposeTest {

    private static JsonNode services;

    @BeforeAll
    static void parse() throws Exception {
        JsonNode compose = new ObjectMapper(new YAMLFactory())
                .readTree(Path.of("..", "docker-compose.yml").toFile());
        services = compose.path("services");
        assertThat(services.isObject()).as("docker-compose.yml has services").isTrue();
    }

    @Test
    void runsThreeKraftBrokersWithReplicationFactorThreeAndMinIsrTwo() {
        List<JsonNode> brokers = servicesWithImage("apache/kafka:");

        assertThat(brokers).hasSize(3);
        assertThat(brokers.stream()
                        .map(b -> b.path("environment").path("KAFKA_NODE_ID").asText()))
                .containsExactlyInAnyOrder("1", "2", "3");
        for (JsonNode broker : brokers) {
            JsonNode env = broker.path("environment");
            assertThat(env.path("KAFKA_PROCESS_ROLES").asText()).isEqualTo("broker,controller");
            assertThat(env.path("KAFKA_CONTROLLER_QUORUM_VOTERS").asText().split(","))
                    .hasSize(3);
            assertThat(env.path("KAFKA_DEFAULT_REPLICATION_FACTOR").asInt()).isEqualTo(3);
            assertThat(env.path("KAFKA_MIN_INSYNC_REPLICAS").asInt()).isEqualTo(2);
            assertThat(env.path("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR").asInt())
                    .isEqualTo(3);
            assertThat(env.path("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR")
                            .asInt())
                    .isEqualTo(3);
            assertThat(env.path("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR").asInt()).isEqualTo(2);
        }
    }

    @Test
    void runsTwoSubstrateInstancesAgainstEveryBroker() {
        List<JsonNode> instances = substrateInstances();

        assertThat(instances).hasSize(2);
        for (JsonNode instance : instances) {
            assertThat(instance.path("command").toString()).contains("serve");
            assertThat(instance.path("environment")
                            .path("SUBSTRATE_BOOTSTRAP_SERVERS")
                            .asText())
                    .contains("kafka-1:9092", "kafka-2:9092", "kafka-3:9092");
        }
    }

    @Test
    void theInstancesShareNothingButTheBrokersAndTheReadOnlyJar() {
        List<String> writable = new ArrayList<>();
        for (JsonNode instance : substrateInstances()) {
            instance.path("volumes").forEach(volume -> {
                if (!volume.asText().endsWith(":ro")) {
                    writable.add(volume.asText().split(":")[0]);
                }
            });
        }
        assertThat(writable).as("each instance's own data volume").hasSize(2).doesNotHaveDuplicates();
    }

    @Test
    void everySubstrateEnvironmentVariableIsOneTheApplicationReads() {
        Set<String> read = SubstrateConfig.definition().names().stream()
                .map(SubstrateConfig::envName)
                .collect(Collectors.toSet());

        for (JsonNode instance : substrateInstances()) {
            Map<String, String> env = new HashMap<>();
            instance.path("environment")
                    .properties()
                    .forEach(e -> env.put(e.getKey(), e.getValue().asText()));

            assertThat(env).isNotEmpty();
            assertThat(env.keySet())
                    .allSatisfy(
                            name -> assertThat(read.contains(name) || name.startsWith(SubstrateConfig.KAFKA_ENV_PREFIX))
                                    .as("%s is read by SubstrateConfig (known: %s)", name, read)
                                    .isTrue());
            assertThat(SubstrateConfig.load(env, Map.of()).get(HttpSettings.HOST))
                    .as("bound to every interface inside the container")
                    .isEqualTo("0.0.0.0");
        }
    }

    private static List<JsonNode> servicesWithImage(String prefix) {
        List<JsonNode> found = new ArrayList<>();
        services.forEach(service -> {
            if (service.path("image").asText().startsWith(prefix)) {
                found.add(service);
            }
        });
        return found;
    }

    private static List<JsonNode> substrateInstances() {
        List<JsonNode> found = new ArrayList<>();
        services.properties().forEach(entry -> {
            if (entry.getKey().startsWith("substrate")) {
                found.add(entry.getValue());
            }
        });
        return found;
    }
}
