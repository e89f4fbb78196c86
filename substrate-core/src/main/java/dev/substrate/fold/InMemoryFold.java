package dev.substrate.fold;

import dev.substrate.event.EventValidator;
import dev.substrate.events.artifact.ArtifactEvent;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.run.RunEvent;
import dev.substrate.state.ArtifactState;
import dev.substrate.state.EventOutcome;
import dev.substrate.state.RoomState;
import dev.substrate.state.RunState;
import dev.substrate.state.TranscriptEntry;
import java.time.Instant;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The whole fold in memory: runs, rooms with their transcripts, artifacts and event outcomes, decided by the
 * same {@link FoldStep} as the Kafka Streams topology. It is the reference the topology is tested against, and
 * a way to fold a log without Kafka. Not thread-safe.
 */
public final class InMemoryFold {

    private final FoldStep step;
    private final Map<String, RunState> runs = new HashMap<>();
    private final Map<String, RoomState> rooms = new HashMap<>();
    private final Map<String, NavigableMap<Long, TranscriptEntry>> transcripts = new HashMap<>();
    private final Map<String, NavigableMap<Long, NavigableMap<Integer, String>>> parts = new HashMap<>();
    private final Map<String, ArtifactState> artifacts = new HashMap<>();
    private final Map<String, EventOutcome> outcomes = new HashMap<>();

    /** A fold that checks events with {@code validator}. */
    public InMemoryFold(EventValidator validator) {
        this.step = new FoldStep(validator);
    }

    /** A fold that checks events with {@code validator} and keeps its records within {@code limits}. */
    public InMemoryFold(EventValidator validator, FoldLimits limits) {
        this.step = new FoldStep(validator, limits);
    }

    /** Folds one run-log record. */
    public Decision<RunState> apply(RunEvent event, int partition, long offset, Instant recordTime) {
        String runId = event.getRunId();
        return FoldDriver.fold(
                new FoldDriver.Step(FoldStep.RUN, runId, event.getEventId(), partition, offset, recordTime),
                outcomesOf(FoldStep.RUN, partition),
                previous -> step.run(runId, runs.get(runId), event, previous, recordTime),
                state -> {
                    if (state == null) {
                        runs.remove(runId);
                        return null;
                    }
                    runs.put(runId, state);
                    return state.getVersion();
                });
    }

    /** Folds one room-log record. */
    public Decision<RoomChange> apply(RoomEvent event, int partition, long offset, Instant recordTime) {
        String roomId = event.getRoomId();
        return FoldDriver.fold(
                new FoldDriver.Step(FoldStep.ROOM, roomId, event.getEventId(), partition, offset, recordTime),
                outcomesOf(FoldStep.ROOM, partition),
                previous -> step.room(roomId, rooms.get(roomId), event, offset, previous, recordTime),
                change -> {
                    NavigableMap<Long, TranscriptEntry> transcript =
                            transcripts.computeIfAbsent(roomId, id -> new TreeMap<>());
                    NavigableMap<Long, NavigableMap<Integer, String>> blocks =
                            parts.computeIfAbsent(roomId, id -> new TreeMap<>());
                    change.partsPut()
                            .forEach(part -> blocks.computeIfAbsent(part.blockOffset(), at -> new TreeMap<>())
                                    .put(part.index(), part.requireText()));
                    change.partsRemoved().forEach(part -> {
                        NavigableMap<Integer, String> block = blocks.get(part.blockOffset());
                        if (block != null) {
                            block.remove(part.index());
                        }
                    });
                    change.entriesPut().forEach(entry -> transcript.put(entry.getOffset(), entry));
                    change.entriesRemoved().forEach(at -> {
                        transcript.remove(at);
                        blocks.remove(at);
                    });
                    if (change.state() == null) {
                        rooms.remove(roomId);
                        transcripts.remove(roomId);
                        parts.remove(roomId);
                        return null;
                    }
                    rooms.put(roomId, change.state());
                    return change.state().getVersion();
                });
    }

    /** Folds one artifact-log record. */
    public Decision<ArtifactState> apply(ArtifactEvent event, int partition, long offset, Instant recordTime) {
        String artifactId = event.getArtifactId();
        return FoldDriver.fold(
                new FoldDriver.Step(FoldStep.ARTIFACT, artifactId, event.getEventId(), partition, offset, recordTime),
                outcomesOf(FoldStep.ARTIFACT, partition),
                previous -> step.artifact(artifactId, artifacts.get(artifactId), event, previous, recordTime),
                state -> {
                    if (state == null) {
                        artifacts.remove(artifactId);
                        return null;
                    }
                    artifacts.put(artifactId, state);
                    return state.getVersion();
                });
    }

    /** The outcomes of one log partition, as the driver keeps them. */
    private FoldDriver.Outcomes outcomesOf(String type, int partition) {
        return new FoldDriver.Outcomes() {
            @Override
            public EventOutcome find(String eventId) {
                return outcomes.get(outcomeKey(type, partition, eventId));
            }

            @Override
            public void record(String eventId, EventOutcome outcome) {
                outcomes.put(outcomeKey(type, partition, eventId), outcome);
            }
        };
    }

    /**
     * Outcomes are remembered per log partition, as the topology's stores are (each task keeps the outcomes of
     * its own partition), so that both decide a reused event id alike.
     */
    private static String outcomeKey(String type, int partition, String eventId) {
        return type + "/" + partition + "/" + eventId;
    }

    /** Runs by id. */
    public Map<String, RunState> runs() {
        return Collections.unmodifiableMap(runs);
    }

    /** Rooms by id. */
    public Map<String, RoomState> rooms() {
        return Collections.unmodifiableMap(rooms);
    }

    /** A room's transcript by offset; empty for an unknown room. */
    public NavigableMap<Long, TranscriptEntry> transcript(String roomId) {
        return Collections.unmodifiableNavigableMap(transcripts.getOrDefault(roomId, new TreeMap<>()));
    }

    /**
     * The stored parts of a room's long blocks: by block offset, each block's parts by index. Empty parts maps are
     * dropped, so two folds of one log compare equal however their parts were removed.
     */
    public NavigableMap<Long, NavigableMap<Integer, String>> blockParts(String roomId) {
        NavigableMap<Long, NavigableMap<Integer, String>> stored = new TreeMap<>();
        parts.getOrDefault(roomId, new TreeMap<>()).forEach((at, block) -> {
            if (!block.isEmpty()) {
                stored.put(at, Collections.unmodifiableNavigableMap(block));
            }
        });
        return Collections.unmodifiableNavigableMap(stored);
    }

    /** Artifacts by id. */
    public Map<String, ArtifactState> artifacts() {
        return Collections.unmodifiableMap(artifacts);
    }

    /** The outcome of each decided event, keyed {@code <entity type>/<partition>/<event id>}. */
    public Map<String, EventOutcome> outcomes() {
        return Collections.unmodifiableMap(outcomes);
    }
}
