package dev.substrate.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The build's compatibility gate: it fails when a current schema is not full-transitively compatible with
 * every released version, when a released file changed, or when a released file is not in the index.
 */
class SchemaCompatibilityTest {

    private static final Path RELEASED = Path.of("src", "main", "resources", ReleasedSchemas.RESOURCE_DIR);

    @ParameterizedTest
    @EnumSource(WireSchema.class)
    void currentSchemaIsFullTransitivelyCompatibleWithEveryReleasedVersion(WireSchema envelope) {
        List<ReleasedSchemas.Version> released = ReleasedSchemas.of(envelope);

        assertThat(released).as("released versions of " + envelope.fileName()).isNotEmpty();
        assertThat(CompatibilityGate.violations(envelope.currentSchema(), released))
                .as("%s changed incompatibly; keep it compatible or see schemas/README.md", envelope.fileName())
                .isEmpty();
    }

    @ParameterizedTest
    @EnumSource(WireSchema.class)
    void everyReleasedFileIsIndexedWithItsFingerprint(WireSchema envelope) throws IOException {
        Set<String> indexed = ReleasedSchemas.of(envelope).stream()
                .map(ReleasedSchemas.Version::fileName)
                .collect(Collectors.toSet());

        try (Stream<Path> files = Files.list(RELEASED.resolve(envelope.fileName()))) {
            assertThat(files.map(file -> envelope.fileName() + "/" + file.getFileName()))
                    .as("files in %s must all be listed in %s", RELEASED, ReleasedSchemas.INDEX)
                    .allMatch(indexed::contains);
        }
    }
}
