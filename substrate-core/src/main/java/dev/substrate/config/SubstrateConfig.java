package dev.substrate.config;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;

/**
 * Substrate's configuration: every setting is declared once, by the component it configures ({@link KafkaSettings},
 * {@link TopicSettings}, {@link EventSettings}, {@link HttpSettings}, {@link StreamSettings}, {@link BlobSettings}, {@link WebhookSettings}, {@link OtelSettings}, {@link EncryptionSettings},
 * {@link QuerySettings}), as a {@link Setting} with its key, type, default, validation and documentation; {@link
 * #get} reads one. The README's configuration table is generated from them ({@link #markdownTable()}) and a test keeps
 * the two equal.
 *
 * <p>Values come from three places; a later one wins:
 *
 * <ol>
 *   <li>the defaults below;
 *   <li>environment variables: {@code SUBSTRATE_} followed by the key in upper case with dots as underscores
 *       ({@code http.port} is {@code SUBSTRATE_HTTP_PORT});
 *   <li>explicit settings, such as command-line options.
 * </ol>
 *
 * <p>Kafka client settings pass through unchanged: an explicit setting whose key Substrate does not define (for
 * example {@code security.protocol}), or an environment variable {@code SUBSTRATE_KAFKA_SECURITY_PROTOCOL},
 * reaches every producer, consumer, admin client and Streams instance as {@code security.protocol}. See {@link
 * #kafkaProperties()}.
 */
public final class SubstrateConfig {

    /** The prefix of every environment variable Substrate reads. */
    public static final String ENV_PREFIX = "SUBSTRATE_";
    /** The prefix of environment variables that carry a Kafka client setting through unchanged. */
    public static final String KAFKA_ENV_PREFIX = ENV_PREFIX + "KAFKA_";

    /** Every setting, component by component. */
    private static final List<Setting<?>> SETTINGS = Stream.of(
                    KafkaSettings.ALL,
                    TopicSettings.ALL,
                    EventSettings.ALL,
                    HttpSettings.ALL,
                    StreamSettings.ALL,
                    BlobSettings.ALL,
                    QuerySettings.ALL,
                    WebhookSettings.ALL,
                    OtelSettings.ALL,
                    EncryptionSettings.ALL)
            .flatMap(List::stream)
            .toList();

    private static final Map<String, Setting<?>> BY_KEY = byKey(SETTINGS);

    private static final ConfigDef DEFINITION = define(SETTINGS);

    private static Map<String, Setting<?>> byKey(List<Setting<?>> settings) {
        Map<String, Setting<?>> byKey = new TreeMap<>();
        for (Setting<?> setting : settings) {
            if (byKey.put(setting.key(), setting) != null) {
                throw new IllegalStateException("two settings are keyed " + setting.key());
            }
        }
        return Map.copyOf(byKey);
    }

    private static ConfigDef define(List<Setting<?>> settings) {
        ConfigDef definition = new ConfigDef();
        settings.forEach(setting -> setting.defineIn(definition));
        return definition;
    }

    private final Map<String, Object> values;
    private final Map<String, String> kafkaPassThrough;

    private SubstrateConfig(Map<String, Object> values, Map<String, String> kafkaPassThrough) {
        this.values = values;
        this.kafkaPassThrough = kafkaPassThrough;
    }

    /** The value of {@code setting} in effect. */
    public <T> T get(Setting<T> setting) {
        if (BY_KEY.get(setting.key()) != setting) {
            throw new IllegalArgumentException(setting.key() + " is not one of Substrate's settings");
        }
        return setting.read(values.get(setting.key()), this);
    }

    /** The Kafka client setting {@code key} passed through, or empty. */
    String kafkaPassThrough(String key) {
        return kafkaPassThrough.getOrDefault(key, "");
    }

    /**
     * The value in effect of every setting, as text, by key; secrets (passwords, the cluster secret) masked as
     * {@code [hidden]} when set.
     */
    public Map<String, String> effectiveValues() {
        Map<String, String> effective = new TreeMap<>();
        for (ConfigDef.ConfigKey key : DEFINITION.configKeys().values()) {
            Object value = key.name.equals(KafkaSettings.APPLICATION_ID.key())
                    ? get(KafkaSettings.APPLICATION_ID)
                    : values.get(key.name);
            effective.put(key.name, text(value));
        }
        return effective;
    }

    /** The Kafka client settings passed through, by key; a value whose key names a secret masked. */
    public Map<String, String> effectiveKafkaValues() {
        Map<String, String> effective = new TreeMap<>();
        kafkaPassThrough.forEach((key, value) -> effective.put(key, secretKey(key) ? HIDDEN : value));
        effective.remove(KafkaSettings.APPLICATION_ID.key()); // shown with the settings, as it is decided there
        return effective;
    }

    private static final String HIDDEN = "[hidden]";

    private static boolean secretKey(String key) {
        String lower = key.toLowerCase(Locale.ROOT);
        return lower.contains("password")
                || lower.contains("secret")
                || lower.contains("jaas")
                || lower.endsWith(".key");
    }

    private static String text(Object value) {
        if (value instanceof Password password) {
            return password.value().isEmpty() ? "" : HIDDEN;
        }
        if (value instanceof List<?> list) {
            return String.join(",", list.stream().map(String::valueOf).toList());
        }
        return String.valueOf(value);
    }

    /** Every key Substrate defines, with its type, default, validation and documentation. */
    public static ConfigDef definition() {
        return DEFINITION;
    }

    /** The environment variable that sets {@code key}, e.g. {@code SUBSTRATE_HTTP_PORT} for {@code http.port}. */
    public static String envName(String key) {
        return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** Configuration from explicit settings alone (defaults for the rest); environment variables are ignored. */
    public static SubstrateConfig of(Map<String, String> explicit) {
        return load(Map.of(), explicit);
    }

    /**
     * Configuration from the environment and explicit settings, explicit winning.
     *
     * @param environment environment variables, usually {@link System#getenv()}; only {@code SUBSTRATE_*} are read
     * @param explicit settings by key, usually from command-line options; keys Substrate does not define pass
     *     through to the Kafka clients
     * @throws InvalidConfiguration naming the key when a value has the wrong type or is out of range
     */
    public static SubstrateConfig load(Map<String, String> environment, Map<String, String> explicit) {
        Objects.requireNonNull(environment, "environment");
        Objects.requireNonNull(explicit, "explicit");
        Map<String, String> raw = new HashMap<>();
        Map<String, String> passThrough = new TreeMap<>();
        for (String key : DEFINITION.names()) {
            String fromEnv = environment.get(envName(key));
            if (fromEnv != null) {
                raw.put(key, fromEnv);
            }
        }
        environment.forEach((name, value) -> {
            if (name.startsWith(KAFKA_ENV_PREFIX) && name.length() > KAFKA_ENV_PREFIX.length()) {
                String key = name.substring(KAFKA_ENV_PREFIX.length())
                        .toLowerCase(Locale.ROOT)
                        .replace('_', '.');
                passThrough.put(key, value);
            }
        });
        explicit.forEach((key, value) -> {
            if (DEFINITION.names().contains(key)) {
                raw.put(key, value);
            } else {
                passThrough.put(key, value);
            }
        });
        try {
            return new SubstrateConfig(DEFINITION.parse(raw), Map.copyOf(passThrough));
        } catch (ConfigException e) {
            String key = keyNamedIn(e.getMessage());
            throw new InvalidConfiguration(key, describe(key, e.getMessage()), e);
        }
    }

    private static String keyNamedIn(String message) {
        for (String key : DEFINITION.names()) {
            if (message != null && message.contains(key)) {
                return key;
            }
        }
        return "";
    }

    private static String describe(String key, String message) {
        return key.isEmpty() ? message : message + " (environment variable " + envName(key) + ")";
    }

    /**
     * Kafka client settings to apply to every client Substrate creates: the pass-through settings, with {@code
     * bootstrap.servers} added when one is configured.
     */
    public Map<String, String> kafkaProperties() {
        Map<String, String> props = new TreeMap<>(kafkaPassThrough);
        props.remove(KafkaSettings.APPLICATION_ID.key()); // the fold's own, as that setting decides it
        String bootstrapServers = get(KafkaSettings.BOOTSTRAP_SERVERS);
        if (!bootstrapServers.isEmpty()) {
            props.put(KafkaSettings.BOOTSTRAP_SERVERS.key(), bootstrapServers);
        }
        return Map.copyOf(props);
    }

    /**
     * The Kafka settings among {@code known} (such as {@code ProducerConfig.configNames()}), so that a client is
     * not handed, and does not warn about, settings meant for another kind of client.
     */
    public Map<String, String> kafkaProperties(Set<String> known) {
        Map<String, String> props = new TreeMap<>(kafkaProperties());
        props.keySet().retainAll(known);
        return Map.copyOf(props);
    }

    /** A copy of this configuration with {@code bootstrap.servers} replaced, e.g. by the embedded broker's. */
    public SubstrateConfig withBootstrapServers(String bootstrapServers) {
        Map<String, Object> copy = new HashMap<>(values);
        copy.put(KafkaSettings.BOOTSTRAP_SERVERS.key(), Objects.requireNonNull(bootstrapServers, "bootstrapServers"));
        return new SubstrateConfig(Map.copyOf(copy), kafkaPassThrough);
    }

    /**
     * A copy of this configuration with the Substrate setting {@code key} set to {@code value}, checked as at load.
     *
     * @throws InvalidConfiguration if the key is not a Substrate setting or the value is not valid for it
     */
    public SubstrateConfig with(String key, String value) {
        ConfigDef.ConfigKey definition = DEFINITION.configKeys().get(key);
        if (definition == null) {
            throw new InvalidConfiguration(key, "is not a Substrate setting", null);
        }
        Object parsed;
        try {
            parsed = ConfigDef.parseType(key, value, definition.type);
            if (definition.validator != null) {
                definition.validator.ensureValid(key, parsed);
            }
        } catch (org.apache.kafka.common.config.ConfigException e) {
            throw new InvalidConfiguration(key, e.getMessage(), null);
        }
        Map<String, Object> copy = new HashMap<>(values);
        copy.put(key, parsed);
        return new SubstrateConfig(Map.copyOf(copy), kafkaPassThrough);
    }

    /** The configuration reference as a Markdown table: key, environment variable, type, default, meaning. */
    public static String markdownTable() {
        StringBuilder table = new StringBuilder();
        table.append("| key | environment variable | type | default | meaning |\n");
        table.append("| --- | --- | --- | --- | --- |\n");
        for (ConfigDef.ConfigKey key : new TreeMap<>(DEFINITION.configKeys()).values()) {
            String defaultValue = key.defaultValue instanceof Password password
                    ? password.value()
                    : key.defaultValue instanceof List<?> list
                            ? String.join(
                                    ",", list.stream().map(String::valueOf).toList())
                            : String.valueOf(key.defaultValue);
            table.append("| `")
                    .append(key.name)
                    .append("` | `")
                    .append(envName(key.name))
                    .append("` | ")
                    .append(key.type.toString().toLowerCase(Locale.ROOT))
                    .append(" | ")
                    .append(defaultValue.isEmpty() ? "(none)" : "`" + defaultValue + "`")
                    .append(" | ")
                    .append(key.documentation)
                    .append(key.validator instanceof Range ? " Range: " + key.validator + "." : "")
                    .append(" |\n");
        }
        table.append("| any Kafka client key | `SUBSTRATE_KAFKA_<KEY>` | | | Passed unchanged to every Kafka client, "
                + "e.g. `SUBSTRATE_KAFKA_SECURITY_PROTOCOL=SASL_SSL` sets `security.protocol`. |\n");
        for (ClientVariable variable : ClientVariable.ALL) {
            table.append("| (command line) | `")
                    .append(variable.name())
                    .append("` | string | ")
                    .append(
                            variable.defaultValue().startsWith("(")
                                    ? variable.defaultValue()
                                    : "`" + variable.defaultValue() + "`")
                    .append(" | ")
                    .append(variable.meaning())
                    .append(" |\n");
        }
        return table.toString();
    }

    @Override
    public String toString() {
        return "SubstrateConfig" + new TreeMap<>(values) + " + kafka " + kafkaPassThrough.keySet();
    }
}
