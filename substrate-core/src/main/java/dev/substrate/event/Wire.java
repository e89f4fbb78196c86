package dev.substrate.event;

import dev.substrate.config.InvalidConfiguration;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.config.TopicSettings;
import dev.substrate.config.WireFormat;
import dev.substrate.registry.SchemaRegistryFailed;
import dev.substrate.registry.internal.SchemaRegistryClient;
import dev.substrate.schemas.ReleasedSchemas;
import dev.substrate.schemas.WireSchema;
import dev.substrate.topic.Topics;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaParseException;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How one process writes and reads the records of Substrate's topics: in the configured {@link WireFormat} for
 * writing, in both for reading (a record's first byte tells them apart: {@code C3} single-object, {@code 00}
 * Confluent).
 *
 * <p>In the {@code confluent} format, {@link #start(SubstrateConfig, Topics)} registers every released version of
 * each topic's schema under the topic's subject ({@code <topic>-value}, Confluent's TopicNameStrategy), oldest
 * first, after setting the subject's compatibility to {@value #DEFAULT_COMPATIBILITY} unless one is set; the ids
 * are kept, so that writing never calls the registry. A reader meets an id it has not seen at most once: it fetches
 * the schema, and keeps it (up to {@value #MAX_CACHED_SCHEMAS} ids). A process starts one wire per configuration
 * (the client, fold and API of a node share it). Records themselves are never rewritten: a log
 * may hold both formats. The fold's stores and the local store keep single-object encoding whatever the setting:
 * they are Substrate's own. Thread-safe.
 */
public final class Wire {

    /** The first byte of a record in Confluent's wire format. */
    public static final byte CONFLUENT_MAGIC = 0;
    /** Confluent's header: the magic byte and a 4-byte big-endian schema id. */
    public static final int CONFLUENT_HEADER_LENGTH = 5;
    /** The compatibility level set on a subject that has none of its own. */
    public static final String DEFAULT_COMPATIBILITY = "FULL_TRANSITIVE";
    /** Writer schemas kept by id; past this, one is forgotten for each new one (and fetched again if met). */
    public static final int MAX_CACHED_SCHEMAS = 1_000;

    private static final Logger log = LoggerFactory.getLogger(Wire.class);
    private static final Wire SINGLE_OBJECT = new Wire(WireFormat.SINGLE_OBJECT, null, Map.of(), Map.of());
    private final WireFormat format;
    private final SchemaRegistryClient registry;
    private final Map<String, Integer> idByTopic;
    private final Map<Integer, Schema> writers = new ConcurrentHashMap<>();
    private final Map<Long, DatumReader<?>> readers = new ConcurrentHashMap<>();
    private final Map<WireSchema, SpecificDatumWriter<SpecificRecord>> datumWriters = new EnumMap<>(WireSchema.class);

    private Wire(
            WireFormat format,
            SchemaRegistryClient registry,
            Map<String, Integer> idByTopic,
            Map<Integer, Schema> registered) {
        this.format = format;
        this.registry = registry;
        this.idByTopic = Map.copyOf(idByTopic);
        this.writers.putAll(registered);
        for (WireSchema schema : WireSchema.values()) {
            Schema current = schema.currentSchema();
            datumWriters.put(schema, new SpecificDatumWriter<>(current, SpecificData.getForSchema(current)));
        }
    }

    /** Single-object writing, no registry: what the default configuration and Substrate's stores use. */
    public static Wire singleObject() {
        return SINGLE_OBJECT;
    }

    /** The wire of {@code config}, for the topics it names. */
    public static Wire start(SubstrateConfig config) {
        return start(config, Topics.from(config));
    }

    /**
     * The wire {@code config} asks for, for {@code topics}: in the {@code confluent} format every subject is
     * registered before this returns. With a registry configured in the {@code single-object} format, nothing is
     * registered, but Confluent-format records (from other writers) are read.
     *
     * @throws InvalidConfiguration if the {@code confluent} format is asked for without {@code schema.registry.url}
     * @throws SchemaRegistryFailed if the registry cannot be reached, or refuses a schema version (an incompatible
     *     change); the message says which subject and version
     */
    public static Wire start(SubstrateConfig config, Topics topics) {
        return connect(config, topics);
    }

    private static Wire connect(SubstrateConfig config, Topics topics) {
        WireFormat format = config.get(TopicSettings.WIRE_FORMAT);
        List<String> urls = config.get(TopicSettings.SCHEMA_REGISTRY_URLS);
        if (urls.isEmpty()) {
            if (format == WireFormat.CONFLUENT) {
                throw new InvalidConfiguration(
                        TopicSettings.SCHEMA_REGISTRY_URLS.key(),
                        "wire.format=confluent needs schema.registry.url, the Schema Registry that gives schema ids",
                        null);
            }
            return SINGLE_OBJECT;
        }
        SchemaRegistryClient registry = new SchemaRegistryClient(
                urls,
                config.get(TopicSettings.SCHEMA_REGISTRY_USER_INFO),
                config.get(TopicSettings.SCHEMA_REGISTRY_TIMEOUT));
        if (format == WireFormat.SINGLE_OBJECT) {
            return new Wire(format, registry, Map.of(), Map.of());
        }
        Map<String, Integer> idByTopic = new ConcurrentHashMap<>();
        Map<Integer, Schema> registered = new ConcurrentHashMap<>();
        for (Subject subject : subjects(topics)) {
            idByTopic.put(subject.topic(), register(registry, subject, registered));
        }
        log.info("Registered {} subjects at {}; writing the Confluent wire format", idByTopic.size(), registry.urls());
        return new Wire(format, registry, idByTopic, registered);
    }

    /**
     * A wire for a process that only reads (an observer): it writes nothing, so it registers nothing, but reads
     * Confluent-format records through the configured registry, if any.
     */
    public static Wire reading(SubstrateConfig config) {
        List<String> urls = config.get(TopicSettings.SCHEMA_REGISTRY_URLS);
        return urls.isEmpty()
                ? SINGLE_OBJECT
                : new Wire(
                        WireFormat.SINGLE_OBJECT,
                        new SchemaRegistryClient(
                                urls,
                                config.get(TopicSettings.SCHEMA_REGISTRY_USER_INFO),
                                config.get(TopicSettings.SCHEMA_REGISTRY_TIMEOUT)),
                        Map.of(),
                        Map.of());
    }

    /** A subject Substrate registers: a topic it writes and the schema of that topic's values. */
    public record Subject(String topic, WireSchema schema) {
        /** Confluent's TopicNameStrategy name, e.g. {@code substrate.run-events-value}. */
        public String name() {
            return topic + "-value";
        }
    }

    /** The subjects of {@code topics}: every topic Substrate writes records of a schema to. */
    public static List<Subject> subjects(Topics topics) {
        return List.of(
                new Subject(topics.runEvents().name(), WireSchema.RUN),
                new Subject(topics.roomEvents().name(), WireSchema.ROOM),
                new Subject(topics.artifactEvents().name(), WireSchema.ARTIFACT),
                new Subject(topics.runs().name(), WireSchema.RUN_STATE),
                new Subject(topics.rooms().name(), WireSchema.ROOM_STATE),
                new Subject(topics.artifacts().name(), WireSchema.ARTIFACT_STATE),
                new Subject(topics.rejections().name(), WireSchema.REJECTION));
    }

    /** Registers every released version of the subject's schema (and this build's, if newer); returns the last id. */
    private static int register(SchemaRegistryClient registry, Subject subject, Map<Integer, Schema> registered) {
        String name = subject.name();
        try {
            if (registry.compatibility(name).isEmpty()) {
                registry.setCompatibility(name, DEFAULT_COMPATIBILITY);
            }
        } catch (SchemaRegistryFailed e) {
            throw new SchemaRegistryFailed(
                    "Cannot set the compatibility of subject " + name + ": " + e.getMessage(),
                    e.status(),
                    e.errorCode(),
                    e.isRetriable(),
                    e);
        }
        List<Schema> versions = new ArrayList<>();
        for (ReleasedSchemas.Version version : ReleasedSchemas.of(subject.schema())) {
            versions.add(version.schema());
        }
        Schema current = subject.schema().currentSchema();
        if (versions.isEmpty()
                || ReleasedSchemas.fingerprint(versions.get(versions.size() - 1))
                        != ReleasedSchemas.fingerprint(current)) {
            versions.add(current);
        }
        int id = -1;
        for (int i = 0; i < versions.size(); i++) {
            Schema schema = versions.get(i);
            try {
                id = registry.register(name, schema.toString());
            } catch (SchemaRegistryFailed e) {
                String which = i < ReleasedSchemas.of(subject.schema()).size()
                        ? "released version v" + (i + 1) + " of "
                                + subject.schema().fileName()
                        : "this build's " + subject.schema().fileName() + " schema";
                throw new SchemaRegistryFailed(
                        (e.status() == 409 ? "The Schema Registry refused " : "Cannot register ") + which
                                + " under subject " + name + ": " + e.getMessage(),
                        e.status(),
                        e.errorCode(),
                        e.isRetriable(),
                        e);
            }
            registered.put(id, schema);
        }
        return id;
    }

    /** The format this wire writes. */
    public WireFormat format() {
        return format;
    }

    /** The Schema Registry id this wire writes {@code topic}'s records with, or -1 when it writes single-object. */
    public int schemaId(String topic) {
        Integer id = idByTopic.get(topic);
        return id == null ? -1 : id;
    }

    /**
     * {@code record} encoded for {@code topic} in this wire's format.
     *
     * @throws IllegalStateException in the {@code confluent} format, for a topic that was not registered at start
     */
    public <T extends SpecificRecord> byte[] encode(String topic, WireCodec<T> codec, T record) {
        if (format == WireFormat.SINGLE_OBJECT) {
            return codec.encode(record);
        }
        Objects.requireNonNull(record, "record");
        Integer id = idByTopic.get(topic);
        if (id == null) {
            throw new IllegalStateException(
                    "No schema id for topic " + topic + ": it was not among the topics registered at start");
        }
        byte[] header = {CONFLUENT_MAGIC, (byte) (id >>> 24), (byte) (id >>> 16), (byte) (id >>> 8), (byte) (int) id};
        return EncodeBuffer.encode(
                header, datumWriters.get(codec.schema()), record, codec.schema().fileName());
    }

    /**
     * Reads a record in either format.
     *
     * @throws UndecodableRecord if the bytes are not a record of {@code codec}'s type in either format, or name a
     *     schema id the registry does not know ({@link UndecodableRecord.Reason#UNKNOWN_SCHEMA_ID}): reading them
     *     again fails the same way
     * @throws SchemaRegistryFailed if the record names an id not seen before and the registry cannot answer now:
     *     reading it again later may succeed
     */
    public <T extends SpecificRecord> T decode(WireCodec<T> codec, byte[] bytes) {
        if (bytes == null || bytes.length == 0 || bytes[0] != CONFLUENT_MAGIC) {
            return codec.decode(bytes);
        }
        if (bytes.length < CONFLUENT_HEADER_LENGTH) {
            throw new UndecodableRecord(
                    UndecodableRecord.Reason.BAD_HEADER,
                    codec.schema().fileName() + ": " + bytes.length + " bytes is shorter than the "
                            + CONFLUENT_HEADER_LENGTH + "-byte Confluent header",
                    null);
        }
        int id = ((bytes[1] & 0xFF) << 24) | ((bytes[2] & 0xFF) << 16) | ((bytes[3] & 0xFF) << 8) | (bytes[4] & 0xFF);
        DatumReader<T> reader = reader(codec, id);
        try {
            return reader.read(
                    null,
                    DecoderFactory.get()
                            .binaryDecoder(
                                    bytes, CONFLUENT_HEADER_LENGTH, bytes.length - CONFLUENT_HEADER_LENGTH, null));
        } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException | NegativeArraySizeException e) {
            throw new UndecodableRecord(
                    UndecodableRecord.Reason.MALFORMED_BODY,
                    codec.schema().fileName() + ": the body is truncated or is not a "
                            + codec.schema().type().getSimpleName() + " of schema id " + id,
                    e);
        }
    }

    @SuppressWarnings("unchecked")
    private <T extends SpecificRecord> DatumReader<T> reader(WireCodec<T> codec, int id) {
        long key = ((long) id << 8) | codec.schema().ordinal();
        DatumReader<?> known = readers.get(key);
        if (known != null) {
            return (DatumReader<T>) known;
        }
        Schema writer = writer(codec, id);
        Schema reader = codec.schema().currentSchema();
        SchemaCompatibility.SchemaPairCompatibility compatibility =
                SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
        if (compatibility.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
            throw new UndecodableRecord(
                    UndecodableRecord.Reason.UNKNOWN_SCHEMA,
                    codec.schema().fileName() + ": schema id " + id + " (" + writer.getFullName()
                            + ") cannot be read as this build's "
                            + codec.schema().fileName() + ": "
                            + compatibility.getDescription(),
                    null);
        }
        DatumReader<T> created = new SpecificDatumReader<>(writer, reader, SpecificData.getForSchema(reader));
        bound(readers);
        readers.put(key, created);
        return created;
    }

    private Schema writer(WireCodec<?> codec, int id) {
        Schema known = writers.get(id);
        if (known != null) {
            return known;
        }
        if (registry == null) {
            throw new UndecodableRecord(
                    UndecodableRecord.Reason.UNKNOWN_SCHEMA_ID,
                    codec.schema().fileName() + ": a Confluent-format record (schema id " + id
                            + ") and no schema.registry.url to look the id up in",
                    null);
        }
        synchronized (this) {
            known = writers.get(id);
            if (known != null) {
                return known;
            }
            String text;
            try {
                text = registry.schemaById(id);
            } catch (SchemaRegistryFailed e) {
                if (e.isNotFound()) {
                    throw new UndecodableRecord(
                            UndecodableRecord.Reason.UNKNOWN_SCHEMA_ID,
                            codec.schema().fileName() + ": the Schema Registry at " + registry.urls()
                                    + " knows no schema id " + id,
                            e);
                }
                throw e;
            }
            Schema schema;
            try {
                schema = new Schema.Parser().parse(text);
            } catch (SchemaParseException e) {
                throw new UndecodableRecord(
                        UndecodableRecord.Reason.UNKNOWN_SCHEMA,
                        codec.schema().fileName() + ": schema id " + id + " is not a valid Avro schema",
                        e);
            }
            bound(writers);
            writers.put(id, schema);
            return schema;
        }
    }

    /** Keeps a cache within {@link #MAX_CACHED_SCHEMAS} before one more entry goes in. */
    private static void bound(Map<?, ?> cache) {
        if (cache.size() >= MAX_CACHED_SCHEMAS) {
            var keys = cache.keySet().iterator();
            if (keys.hasNext()) {
                keys.next();
                keys.remove();
            }
        }
    }

    /** One line for a start banner: the format, and the registry when there is one. */
    public String describe() {
        if (registry == null) {
            return format.setting() + " (no Schema Registry)";
        }
        return format.setting() + " (Schema Registry " + registry.urls()
                + (format == WireFormat.CONFLUENT ? ", " + idByTopic.size() + " subjects registered" : ", read only")
                + ")";
    }

    @Override
    public String toString() {
        return "Wire[" + format.setting() + (registry == null ? "" : " " + registry.urls()) + "]";
    }
}
