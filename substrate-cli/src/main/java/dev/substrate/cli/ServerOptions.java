package dev.substrate.cli;

import dev.substrate.config.HttpSettings;
import dev.substrate.config.KafkaSettings;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.config.TopicSettings;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** Options that {@code dev} and {@code serve} share; unset options fall back to the environment, then defaults. */
final class ServerOptions {

    @Option(
            names = "--data-dir",
            paramLabel = "DIR",
            description = "Directory for local data (default: ./.substrate, or SUBSTRATE_DATA_DIR).")
    Path dataDir;

    @Option(
            names = "--http-port",
            paramLabel = "N",
            description = "Port of the HTTP API; 0 picks a free one (default: 8080, or SUBSTRATE_HTTP_PORT).")
    Integer httpPort;

    @Option(
            names = "--http-host",
            paramLabel = "HOST",
            description = "Interface the HTTP API binds to (default: localhost, or SUBSTRATE_HTTP_HOST).")
    String httpHost;

    @Option(
            names = "--schema-registry",
            paramLabel = "URL",
            description = "Write the Confluent wire format with schema ids from this Schema Registry (one or more "
                    + "URLs, comma-separated): shorthand for -c wire.format=confluent -c schema.registry.url=URL.")
    String schemaRegistry;

    @Option(
            names = {"-c", "--config"},
            paramLabel = "KEY=VALUE",
            description = "Any configuration key, or a Kafka client setting passed through unchanged "
                    + "(e.g. -c security.protocol=SASL_SSL). Repeatable.")
    Map<String, String> settings = new LinkedHashMap<>();

    /** The configuration from the environment, overridden by these options and {@code extra}. */
    SubstrateConfig load(Map<String, String> extra) {
        Map<String, String> explicit = new HashMap<>(settings);
        putIfSet(explicit, KafkaSettings.DATA_DIR.key(), dataDir);
        putIfSet(explicit, HttpSettings.PORT.key(), httpPort);
        putIfSet(explicit, HttpSettings.HOST.key(), httpHost);
        if (schemaRegistry != null) {
            explicit.put(TopicSettings.WIRE_FORMAT.key(), "confluent");
            explicit.put(TopicSettings.SCHEMA_REGISTRY_URLS.key(), schemaRegistry);
        }
        explicit.putAll(extra);
        return SubstrateConfig.load(System.getenv(), explicit);
    }

    static void putIfSet(Map<String, String> settings, String key, Object value) {
        if (value != null) {
            settings.put(key, value.toString());
        }
    }
}
