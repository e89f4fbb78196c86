package dev.substrate.event;

import java.util.Map;
import java.util.Objects;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A Kafka {@link Serde} over a {@link WireCodec}: what a Java consumer of Substrate's topics (through a {@link
 * Wire}: both formats read, the configured one written), and the fold's stores (single-object), read and write with. A null value stays null both ways (a tombstone); bytes that cannot be read
 * throw {@link UndecodableRecord}, which the fold's deserialization handler sends to the dead-letter topic.
 *
 * @param <T> the generated record class
 */
public final class WireSerde<T extends SpecificRecord> implements Serde<T>, Serializer<T>, Deserializer<T> {

    private final Wire wire;
    private final WireCodec<T> codec;

    /** A serde over {@code codec} in single-object encoding: a store's. */
    public WireSerde(WireCodec<T> codec) {
        this(Wire.singleObject(), codec);
    }

    /** A serde over {@code codec} that writes {@code wire}'s format and reads both: a topic's. */
    public WireSerde(Wire wire, WireCodec<T> codec) {
        this.wire = Objects.requireNonNull(wire, "wire");
        this.codec = Objects.requireNonNull(codec, "codec");
    }

    @Override
    public byte[] serialize(String topic, T data) {
        return data == null ? null : wire.encode(topic, codec, data);
    }

    @Override
    public T deserialize(String topic, byte[] data) {
        return data == null ? null : wire.decode(codec, data);
    }

    @Override
    public Serializer<T> serializer() {
        return this;
    }

    @Override
    public Deserializer<T> deserializer() {
        return this;
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {}

    @Override
    public void close() {}
}
