package dev.substrate.schemas;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.function.Function;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;

/**
 * Every released version of every envelope schema, as kept in {@code schemas/src/main/resources/}{@value
 * #RESOURCE_DIR}. A released version never changes: the index {@value #INDEX} records each file's CRC-64-AVRO
 * fingerprint, and loading fails if a file no longer matches it. Decoders read records written with any of
 * these versions; the build's compatibility gate keeps the current schemas full-transitively compatible with
 * all of them.
 */
public final class ReleasedSchemas {

    /** The classpath folder of the released schema files. */
    public static final String RESOURCE_DIR = "dev/substrate/schemas/released/";
    /** The index of released versions: {@code <envelope>.v<N>=<fingerprint as 16 hex digits>}. */
    public static final String INDEX = "fingerprints.properties";

    private ReleasedSchemas() {}

    /** A released schema: its envelope, version number, parsed schema and fingerprint. */
    public record Version(WireSchema envelope, int version, Schema schema, long fingerprint) {

        /** The resource name, e.g. {@code run-event/v1.avsc}. */
        public String fileName() {
            return ReleasedSchemas.fileName(envelope, version);
        }
    }

    /** The resource name of {@code version} of {@code envelope}, e.g. {@code run-event/v1.avsc}. */
    public static String fileName(WireSchema envelope, int version) {
        return envelope.fileName() + "/v" + version + ".avsc";
    }

    /** The index key of {@code version} of {@code envelope}, e.g. {@code run-event.v1}. */
    public static String indexKey(WireSchema envelope, int version) {
        return envelope.fileName() + ".v" + version;
    }

    /** The CRC-64-AVRO fingerprint of a schema's parsing canonical form, as single-object encoding uses it. */
    public static long fingerprint(Schema schema) {
        return SchemaNormalization.parsingFingerprint64(schema);
    }

    /** A fingerprint as 16 lowercase hex digits, big-endian, as the index and docs write it. */
    public static String hex(long fingerprint) {
        return String.format(Locale.ROOT, "%016x", fingerprint);
    }

    /**
     * Every released version of {@code envelope}, oldest first.
     *
     * @throws IllegalStateException if a listed file is missing or its fingerprint differs from the index
     */
    public static List<Version> of(WireSchema envelope) {
        return of(envelope, ReleasedSchemas::read);
    }

    /** As {@link #of(WireSchema)}, reading each schema file's text through {@code files}. */
    static List<Version> of(WireSchema envelope, Function<String, String> files) {
        Properties index = index();
        List<Version> versions = new ArrayList<>();
        for (int version = 1; index.containsKey(indexKey(envelope, version)); version++) {
            String expected = index.getProperty(indexKey(envelope, version)).strip();
            Schema schema = new Schema.Parser().parse(files.apply(fileName(envelope, version)));
            long fingerprint = fingerprint(schema);
            if (!hex(fingerprint).equals(expected)) {
                throw new IllegalStateException("Released schema " + fileName(envelope, version) + " has fingerprint "
                        + hex(fingerprint) + " but " + INDEX + " records " + expected
                        + ": a released schema must never change; add a new version instead");
            }
            versions.add(new Version(envelope, version, schema, fingerprint));
        }
        return List.copyOf(versions);
    }

    /** The index of released versions. */
    public static Properties index() {
        Properties index = new Properties();
        try (InputStream in = open(INDEX)) {
            index.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + RESOURCE_DIR + INDEX, e);
        }
        return index;
    }

    static String read(String name) {
        try (InputStream in = open(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read released schema " + RESOURCE_DIR + name, e);
        }
    }

    private static InputStream open(String name) {
        InputStream in = ReleasedSchemas.class.getClassLoader().getResourceAsStream(RESOURCE_DIR + name);
        if (in == null) {
            throw new IllegalStateException("Released schema resource " + RESOURCE_DIR + name + " is missing");
        }
        return in;
    }
}
