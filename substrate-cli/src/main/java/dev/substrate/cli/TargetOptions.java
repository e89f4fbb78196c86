package dev.substrate.cli;

import dev.substrate.cli.internal.ApiClient;
import dev.substrate.cli.internal.SharedRuns;
import dev.substrate.config.KafkaSettings;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.config.TopicSettings;
import java.util.HashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** How {@code share} and {@code do} reach the substrate: its HTTP API (the default) or Kafka directly. */
final class TargetOptions {

    @Option(
            names = "--url",
            paramLabel = "URL",
            description = "The substrate's API (default: SUBSTRATE_URL, else http://localhost:8080).")
    String url;

    @Option(
            names = "--token",
            paramLabel = "TOKEN",
            description = "A bearer token (default: SUBSTRATE_TOKEN, else ./.substrate/admin.token if present). "
                    + "Events keep their actor, so the token must be an operator's or admin's, or the actor's own.")
    String token;

    @Option(
            names = "--bootstrap-servers",
            paramLabel = "HOST:PORT[,...]",
            description = "Write straight to Kafka instead of through the API.")
    String bootstrapServers;

    @Option(
            names = "--schema-registry",
            paramLabel = "URL",
            description = "With --bootstrap-servers: write the Confluent wire format with schema ids from this "
                    + "Schema Registry (shorthand for -c wire.format=confluent -c schema.registry.url=URL).")
    String schemaRegistry;

    @Option(
            names = {"-c", "--config"},
            paramLabel = "KEY=VALUE",
            description = "A Substrate or Kafka client setting, with --bootstrap-servers (such as topic.prefix or "
                    + "security.protocol). Repeatable.")
    Map<String, String> settings = new HashMap<>();

    SharedRuns open() {
        if (bootstrapServers != null) {
            Map<String, String> explicit = new HashMap<>(settings);
            explicit.put(KafkaSettings.BOOTSTRAP_SERVERS.key(), bootstrapServers);
            if (schemaRegistry != null) {
                explicit.put(TopicSettings.WIRE_FORMAT.key(), "confluent");
                explicit.put(TopicSettings.SCHEMA_REGISTRY_URLS.key(), schemaRegistry);
            }
            return SharedRuns.kafka(SubstrateConfig.load(System.getenv(), explicit));
        }
        return SharedRuns.http(new ApiClient(
                url != null ? url : ClientOptions.defaultUrl(), token != null ? token : ClientOptions.defaultToken()));
    }
}
