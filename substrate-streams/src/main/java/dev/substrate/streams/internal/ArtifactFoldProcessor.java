package dev.substrate.streams.internal;

import dev.substrate.entity.EntityKind;
import dev.substrate.event.WireCodec;
import dev.substrate.events.artifact.ArtifactEvent;
import dev.substrate.fold.Decision;
import dev.substrate.fold.FoldStep;
import dev.substrate.state.ArtifactState;
import dev.substrate.state.EventOutcome;
import dev.substrate.streams.FoldSettings;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/** Folds {@code substrate.artifact-events} into the artifacts store, its indexes, and {@code substrate.artifacts}. */
final class ArtifactFoldProcessor extends FoldProcessor<ArtifactEvent, ArtifactState> {

    private KeyValueStore<String, ArtifactState> artifacts;
    /** Artifacts read and written through the states this task wrote lately. */
    private RecentStates<ArtifactState> states;
    /** The entity's state as {@link #decide} read it: what {@link #applyChange} changes, not read twice. */
    private ArtifactState current;

    private WritableIndex byParent;
    private WritableIndex byRun;
    private WritableIndex byRoom;

    ArtifactFoldProcessor(FoldStep step, Duration outcomeRetention, FoldSettings settings) {
        super(EntityKind.ARTIFACT, step, outcomeRetention, settings);
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
        super.init(context);
        artifacts = context.getStateStore(StoreNames.ARTIFACTS);
        states = new RecentStates<>(artifacts, WireCodec.ARTIFACT_STATE::measuredSize);
        StateTopicOnFlush.attach(
                context,
                artifacts,
                FoldTopology.ARTIFACTS_SINK,
                state -> wire.encode(topics.artifacts().name(), WireCodec.ARTIFACT_STATE, state));
        byParent = index(StoreNames.ARTIFACTS_BY_PARENT);
        byRun = index(StoreNames.ARTIFACTS_BY_RUN);
        byRoom = index(StoreNames.ARTIFACTS_BY_ROOM);
        if (!indexesKept()) {
            try (IndexRebuild rebuild = new IndexRebuild();
                    KeyValueIterator<String, ArtifactState> all = artifacts.all()) {
                all.forEachRemaining(entry -> indexValues(entry.value)
                        .forEach((index, value) -> rebuildIndex(rebuild, index, value, entry.key)));
            }
        }
    }

    @Override
    Decision<ArtifactState> decide(String key, ArtifactEvent event, long offset, EventOutcome previous, Instant time) {
        current = states.get(event.getArtifactId());
        return step.artifact(key, current, event, previous, time);
    }

    @Override
    Long applyChange(ArtifactEvent event, ArtifactState state, Record<String, ArtifactEvent> record) {
        String artifactId = event.getArtifactId();
        ArtifactState before = current;
        if (state == null) {
            if (before != null) {
                index(before, false);
            }
            states.delete(artifactId);
            return null;
        }
        if (before == null) {
            index(state, true);
        }
        states.put(artifactId, state);
        return state.getVersion();
    }

    /** Adds or removes the artifact's index entries; parent and provenance never change after registration. */
    private void index(ArtifactState artifact, boolean add) {
        indexValues(artifact).forEach((index, value) -> updateIndex(index, value, artifact.getArtifactId(), add));
    }

    /** The value {@code artifact} has in each index store (null: none). */
    private Map<WritableIndex, String> indexValues(ArtifactState artifact) {
        Map<WritableIndex, String> values = new LinkedHashMap<>();
        values.put(byParent, artifact.getParentId());
        values.put(byRun, artifact.getProvenance().getRunId());
        values.put(byRoom, artifact.getProvenance().getRoomId());
        return values;
    }
}
