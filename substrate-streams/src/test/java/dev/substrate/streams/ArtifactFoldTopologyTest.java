package dev.substrate.streams;

import static dev.substrate.testing.SampleEvents.artifact;
import static dev.substrate.testing.SampleEvents.artifactDeleted;
import static dev.substrate.testing.SampleEvents.registered;
import static dev.substrate.testing.SampleEvents.revised;
import static org.assertj.core.api.Assertions.assertThat;

import dev.substrate.events.artifact.ArtifactEvent;
import dev.substrate.state.ArtifactRevision;
import dev.substrate.state.ArtifactState;
import dev.substrate.state.Rejection;
import dev.substrate.streams.internal.StoreNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ArtifactFoldTopologyTest {

    private final FoldFixture fold = new FoldFixture();

    @AfterEach
    void close() {
        fold.close();
    }

    @Test
    void shouldKeepEveryRevisionInTheHistory() {
        fold.given(
                artifact("a-1", registered()),
                artifact("a-1", revised("https://example.com/v2", "second")),
                artifact("a-1", revised("https://example.com/v3", "third")));

        ArtifactState state = fold.artifact("a-1");
        assertThat(state.getVersion()).isEqualTo(3);
        assertThat(state.getLocator()).isEqualTo("https://example.com/v3");
        assertThat(state.getRevisions())
                .extracting(ArtifactRevision::getVersion, ArtifactRevision::getNote)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(1L, null),
                        org.assertj.core.groups.Tuple.tuple(2L, "second"),
                        org.assertj.core.groups.Tuple.tuple(3L, "third"));
        assertThat(state.getDigest()).startsWith("sha256:");
    }

    @Test
    void shouldTombstoneADeletedArtifactAndItsIndexEntries() {
        fold.given(artifact("a-1", registered()));
        assertThat(fold.indexKeys(StoreNames.ARTIFACTS_BY_PARENT, "project:acme/web"))
                .hasSize(1);
        assertThat(fold.indexKeys(StoreNames.ARTIFACTS_BY_RUN, "run-1")).hasSize(1);
        assertThat(fold.indexKeys(StoreNames.ARTIFACTS_BY_ROOM, "room-session-1"))
                .hasSize(1);
        fold.artifactStates();

        fold.given(artifact("a-1", artifactDeleted()));

        assertThat(fold.artifact("a-1")).isNull();
        assertThat(fold.artifactStates())
                .singleElement()
                .satisfies(kv -> assertThat(kv.value).isNull());
        assertThat(fold.indexKeys(StoreNames.ARTIFACTS_BY_PARENT, "project:acme/web"))
                .isEmpty();
        assertThat(fold.indexKeys(StoreNames.ARTIFACTS_BY_RUN, "run-1")).isEmpty();
    }

    @Test
    void shouldRefuseRevisingAnUnknownArtifactAndAVersionConflict() {
        fold.given(artifact("ghost", revised("https://example.com/x", null)), artifact("a-1", registered()));
        ArtifactEvent stale = ArtifactEvent.newBuilder(artifact("a-1", revised("https://example.com/y", null)))
                .setExpectedVersion(7L)
                .build();

        fold.given(stale);

        assertThat(fold.rejections()).extracting(Rejection::getReason).containsExactly("not_found", "version_conflict");
        assertThat(fold.artifact("a-1").getVersion()).isEqualTo(1);
    }
}
