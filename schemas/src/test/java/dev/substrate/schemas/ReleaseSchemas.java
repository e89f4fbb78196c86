package dev.substrate.schemas;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Properties;
import org.apache.avro.SchemaFormatter;

/**
 * Releases the current envelope schemas: each envelope whose current schema is not yet released is written as
 * its next version, and its fingerprint is added to the index. From the repository root:
 *
 * <pre>
 * mvn -q -pl schemas test-compile exec:java -Dexec.classpathScope=test \
 *     -Dexec.mainClass=dev.substrate.schemas.ReleaseSchemas
 * </pre>
 *
 * Commit the new files. Released files are never edited afterwards; the compatibility gate checks both.
 */
public final class ReleaseSchemas {

    private ReleaseSchemas() {}

    /** The schemas module's resources, whether run from the repository root or from the module. */
    private static Path defaultResources() {
        Path fromRoot = Path.of("schemas", "src", "main", "resources");
        return Files.isDirectory(fromRoot.getParent()) ? fromRoot : Path.of("src", "main", "resources");
    }

    public static void main(String[] args) throws IOException {
        Path resources = args.length > 0 ? Path.of(args[0]) : defaultResources();
        Path dir = resources.resolve(ReleasedSchemas.RESOURCE_DIR);
        Path index = dir.resolve(ReleasedSchemas.INDEX);
        Files.createDirectories(dir);
        if (!Files.exists(index)) {
            Files.writeString(
                    index, "# Released envelope schemas and their CRC-64-AVRO fingerprints. Never edit a line.\n");
        }
        Properties released = new Properties();
        try (Reader in = Files.newBufferedReader(index, StandardCharsets.UTF_8)) {
            released.load(in);
        }
        for (WireSchema envelope : WireSchema.values()) {
            String current = ReleasedSchemas.hex(ReleasedSchemas.fingerprint(envelope.currentSchema()));
            int next = 1;
            boolean alreadyReleased = false;
            for (; released.containsKey(ReleasedSchemas.indexKey(envelope, next)); next++) {
                alreadyReleased |= released.getProperty(ReleasedSchemas.indexKey(envelope, next))
                        .equals(current);
            }
            if (alreadyReleased) {
                System.out.println(envelope.fileName() + ": current schema " + current + " is already released");
                continue;
            }
            Path file = dir.resolve(ReleasedSchemas.fileName(envelope, next));
            Files.createDirectories(file.getParent());
            Files.writeString(
                    file,
                    SchemaFormatter.format("json/pretty", envelope.currentSchema()) + "\n",
                    StandardCharsets.UTF_8);
            Files.writeString(
                    index,
                    ReleasedSchemas.indexKey(envelope, next) + "=" + current + "\n",
                    StandardCharsets.UTF_8,
                    StandardOpenOption.APPEND);
            System.out.println(envelope.fileName() + ": released as v" + next + " (" + current + ")");
        }
    }
}
