package dev.substrate.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SubstrateConfigTest {

    @Test
    void shouldUseDocumentedDefaultsWhenNothingIsSet() {
        SubstrateConfig config = SubstrateConfig.load(Map.of(), Map.of());

        assertThat(config.get(KafkaSettings.DATA_DIR)).isEqualTo(Path.of(".substrate"));
        assertThat(config.get(HttpSettings.PORT)).isEqualTo(8080);
        assertThat(config.get(HttpSettings.HOST)).isEqualTo("localhost");
        assertThat(config.get(KafkaSettings.EMBEDDED_PORT)).isEqualTo(9092);
        assertThat(config.get(KafkaSettings.BOOTSTRAP_SERVERS)).isEmpty();
        assertThat(config.kafkaProperties()).isEmpty();
    }

    @Test
    void shouldReadEnvironmentAndLetExplicitSettingsWin() {
        Map<String, String> env = Map.of(
                "SUBSTRATE_HTTP_PORT", "9000",
                "SUBSTRATE_DATA_DIR", "/var/lib/substrate",
                "SUBSTRATE_BOOTSTRAP_SERVERS", "kafka-1:9092,kafka-2:9092",
                "UNRELATED", "ignored");

        SubstrateConfig config = SubstrateConfig.load(env, Map.of("http.port", "9100"));

        assertThat(config.get(HttpSettings.PORT)).isEqualTo(9100);
        assertThat(config.get(KafkaSettings.DATA_DIR)).isEqualTo(Path.of("/var/lib/substrate"));
        assertThat(config.get(KafkaSettings.BOOTSTRAP_SERVERS)).isEqualTo("kafka-1:9092,kafka-2:9092");
    }

    @Test
    void shouldPassKafkaClientSettingsThroughUnchanged() {
        Map<String, String> env = Map.of(
                "SUBSTRATE_KAFKA_SECURITY_PROTOCOL", "SASL_SSL",
                "SUBSTRATE_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512",
                "SUBSTRATE_BOOTSTRAP_SERVERS", "broker:9093");

        SubstrateConfig config = SubstrateConfig.load(env, Map.of("client.rack", "eu-west-1a"));

        assertThat(config.kafkaProperties())
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
                .containsEntry("client.rack", "eu-west-1a")
                .containsEntry("bootstrap.servers", "broker:9093")
                .doesNotContainKey("http.port");
    }

    @Test
    void shouldHandEachClientOnlyTheSettingsItKnows() {
        SubstrateConfig config = SubstrateConfig.of(
                Map.of("bootstrap.servers", "broker:9092", "application.id", "fold", "linger.ms", "5"));

        assertThat(config.kafkaProperties(Set.of("bootstrap.servers", "linger.ms")))
                .containsOnlyKeys("bootstrap.servers", "linger.ms");
    }

    @Test
    void derivesTheApplicationIdFromTheTopicPrefixUnlessSet() {
        assertThat(SubstrateConfig.of(Map.of()).get(KafkaSettings.APPLICATION_ID))
                .isEqualTo("substrate");
        assertThat(SubstrateConfig.of(Map.of("topic.prefix", "acme-prod.")).get(KafkaSettings.APPLICATION_ID))
                .isEqualTo("acme-prod");
        assertThat(SubstrateConfig.of(Map.of("topic.prefix", "")).get(KafkaSettings.APPLICATION_ID))
                .isEqualTo("substrate");
        assertThat(SubstrateConfig.of(Map.of("topic.prefix", "acme.", "application.id", "fold"))
                        .get(KafkaSettings.APPLICATION_ID))
                .isEqualTo("fold");
        // The Kafka pass-through spelling earlier versions documented still sets it, and reaches no other client.
        SubstrateConfig passedThrough =
                SubstrateConfig.load(Map.of("SUBSTRATE_KAFKA_APPLICATION_ID", "legacy"), Map.of());
        assertThat(passedThrough.get(KafkaSettings.APPLICATION_ID)).isEqualTo("legacy");
        assertThat(passedThrough.kafkaProperties()).doesNotContainKey("application.id");
    }

    @Test
    void masksSecretsAmongTheEffectiveValues() {
        SubstrateConfig config = SubstrateConfig.of(
                Map.of("cluster.secret", "s3cret", "sasl.jaas.config", "password=\"hunter2\"", "linger.ms", "5"));

        assertThat(config.effectiveValues()).containsEntry("cluster.secret", "[hidden]");
        assertThat(config.effectiveKafkaValues())
                .containsEntry("sasl.jaas.config", "[hidden]")
                .containsEntry("linger.ms", "5");
    }

    @Test
    void shouldNotPrintPassThroughValuesWhichMayBeSecrets() {
        SubstrateConfig config = SubstrateConfig.of(Map.of("sasl.jaas.config", "password=\"hunter2\""));

        assertThat(config.toString()).contains("sasl.jaas.config").doesNotContain("hunter2");
    }

    @Test
    void shouldRefuseAnOutOfRangePortNamingTheKeyAndVariable() {
        assertThatThrownBy(() -> SubstrateConfig.load(Map.of("SUBSTRATE_HTTP_PORT", "70000"), Map.of()))
                .isInstanceOfSatisfying(
                        InvalidConfiguration.class, e -> assertThat(e.key()).isEqualTo("http.port"))
                .hasMessageContaining("http.port")
                .hasMessageContaining("SUBSTRATE_HTTP_PORT");
    }

    @Test
    void shouldRefuseANonNumericPort() {
        assertThatThrownBy(() -> SubstrateConfig.of(Map.of("embedded.kafka.port", "ninety")))
                .isInstanceOf(InvalidConfiguration.class)
                .hasMessageContaining("embedded.kafka.port");
    }

    @Test
    void shouldRefuseABlankDataDir() {
        assertThatThrownBy(() -> SubstrateConfig.of(Map.of("data.dir", "  ")))
                .isInstanceOf(InvalidConfiguration.class)
                .hasMessageContaining("data.dir");
    }

    @Test
    void shouldReplaceBootstrapServersInACopy() {
        SubstrateConfig config = SubstrateConfig.of(Map.of());

        SubstrateConfig embedded = config.withBootstrapServers("localhost:1234");

        assertThat(embedded.kafkaProperties()).containsEntry("bootstrap.servers", "localhost:1234");
        assertThat(config.get(KafkaSettings.BOOTSTRAP_SERVERS)).isEmpty();
    }

    @Test
    void readmeConfigurationTableMatchesTheDefinition() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"), StandardCharsets.UTF_8);
        String start = "<!-- configuration-table:start -->\n";
        String end = "<!-- configuration-table:end -->";

        assertThat(readme).contains(start).contains(end);
        String table = readme.substring(readme.indexOf(start) + start.length(), readme.indexOf(end));
        assertThat(table)
                .as("README.md's configuration table; regenerate it from SubstrateConfig.markdownTable()")
                .isEqualTo(SubstrateConfig.markdownTable());
    }
}
