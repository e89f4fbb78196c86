package dev.substrate.config;

import java.util.Locale;

/**
 * How records are written to Substrate's topics. Readers read both, told apart by the first byte, so a deployment
 * can move from one to the other while it runs.
 */
public enum WireFormat {
    /**
     * Avro single-object encoding: {@code C3 01}, the writer schema's 8-byte CRC-64-AVRO fingerprint, the Avro
     * body. Needs no registry: the schemas travel in Substrate's jars. The default.
     */
    SINGLE_OBJECT,
    /**
     * Confluent's wire format: a zero byte, the writer schema's 4-byte big-endian Schema Registry id, the Avro
     * body. What every Confluent-compatible serde reads and writes, in any language; needs a Schema Registry.
     */
    CONFLUENT;

    /** The setting's value, e.g. {@code single-object}. */
    public String setting() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /**
     * The format a setting names.
     *
     * @throws IllegalArgumentException for any other value
     */
    public static WireFormat fromSetting(String value) {
        for (WireFormat format : values()) {
            if (format.setting().equalsIgnoreCase(value.strip())) {
                return format;
            }
        }
        throw new IllegalArgumentException("wire.format is single-object or confluent, not " + value);
    }
}
