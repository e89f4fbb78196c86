package dev.substrate.config;

import java.time.Duration;
import java.util.Objects;
import java.util.function.BiFunction;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.types.Password;

/**
 * One Substrate setting, declared once: its key, type, default, validation and documentation, and how its value is
 * read ({@link SubstrateConfig#get}). Its environment variable follows from the key ({@link #envName()}). Each
 * component declares its own settings ({@link KafkaSettings}, {@link TopicSettings}, {@link FoldSettings}, {@link
 * HttpSettings}, {@link StreamSettings}, {@link BlobSettings}, {@link QuerySettings}), in the manner of Debezium's
 * {@code Field}; {@link SubstrateConfig} parses them all at once and generates the README's table from them.
 *
 * @param <T> the type of the value in effect
 */
public final class Setting<T> {

    private final String key;
    private final Type type;
    private final Object defaultValue;
    private final ConfigDef.Validator validator;
    private final Importance importance;
    private final String doc;
    private final BiFunction<Object, SubstrateConfig, T> reader;

    private Setting(
            String key,
            Type type,
            Object defaultValue,
            ConfigDef.Validator validator,
            Importance importance,
            String doc,
            BiFunction<Object, SubstrateConfig, T> reader) {
        this.key = Objects.requireNonNull(key, "key");
        this.type = type;
        this.defaultValue = defaultValue;
        this.validator = validator;
        this.importance = importance;
        this.doc = doc;
        this.reader = reader;
    }

    /** A string setting; {@code validator} may be null. */
    static Setting<String> text(
            String key, String defaultValue, ConfigDef.Validator validator, Importance importance, String doc) {
        return new Setting<>(
                key, Type.STRING, defaultValue, validator, importance, doc, (value, config) -> (String) value);
    }

    /** An int setting. */
    static Setting<Integer> integer(
            String key, int defaultValue, ConfigDef.Validator validator, Importance importance, String doc) {
        return new Setting<>(
                key, Type.INT, defaultValue, validator, importance, doc, (value, config) -> (Integer) value);
    }

    /** A long setting. */
    static Setting<Long> number(
            String key, long defaultValue, ConfigDef.Validator validator, Importance importance, String doc) {
        return new Setting<>(key, Type.LONG, defaultValue, validator, importance, doc, (value, config) -> (Long) value);
    }

    /** A duration given in milliseconds (its key ends in {@code .ms}). */
    static Setting<Duration> millis(
            String key, long defaultValue, ConfigDef.Validator validator, Importance importance, String doc) {
        return new Setting<>(
                key,
                Type.LONG,
                defaultValue,
                validator,
                importance,
                doc,
                (value, config) -> Duration.ofMillis((Long) value));
    }

    /** A secret: never printed ({@code [hidden]} among the values in effect); empty by default. */
    static Setting<String> secret(String key, Importance importance, String doc) {
        return new Setting<>(
                key, Type.PASSWORD, "", null, importance, doc, (value, config) -> ((Password) value).value());
    }

    /** A setting of any type, read by {@code reader} from its parsed value and the rest of the configuration. */
    static <T> Setting<T> of(
            String key,
            Type type,
            Object defaultValue,
            ConfigDef.Validator validator,
            Importance importance,
            String doc,
            BiFunction<Object, SubstrateConfig, T> reader) {
        return new Setting<>(key, type, defaultValue, validator, importance, doc, reader);
    }

    /**
     * This setting read through {@code derive}: for a value that depends on another setting (a directory under
     * {@code data.dir} when empty, a bound at least twice {@code max.event.bytes}).
     */
    <R> Setting<R> derived(BiFunction<T, SubstrateConfig, R> derive) {
        return new Setting<>(
                key,
                type,
                defaultValue,
                validator,
                importance,
                doc,
                (value, config) -> derive.apply(reader.apply(value, config), config));
    }

    /** The setting's key, such as {@code http.port}. */
    public String key() {
        return key;
    }

    /** The environment variable that sets it, such as {@code SUBSTRATE_HTTP_PORT}. */
    public String envName() {
        return SubstrateConfig.envName(key);
    }

    /** What it sets, as the README's table says it. */
    public String doc() {
        return doc;
    }

    /** The value in effect in {@code config}, given the value parsed for its key. */
    T read(Object parsed, SubstrateConfig config) {
        return reader.apply(parsed, config);
    }

    /** Adds this setting to {@code definition}. */
    void defineIn(ConfigDef definition) {
        if (validator == null) {
            definition.define(key, type, defaultValue, importance, doc);
        } else {
            definition.define(key, type, defaultValue, validator, importance, doc);
        }
    }

    @Override
    public String toString() {
        return key;
    }
}
