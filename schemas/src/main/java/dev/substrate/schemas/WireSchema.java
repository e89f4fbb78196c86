package dev.substrate.schemas;

import dev.substrate.events.artifact.ArtifactEvent;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.run.RunEvent;
import dev.substrate.state.ArtifactState;
import dev.substrate.state.EventOutcome;
import dev.substrate.state.Rejection;
import dev.substrate.state.RoomState;
import dev.substrate.state.RunState;
import dev.substrate.state.TranscriptEntry;
import dev.substrate.state.UsageTotal;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;

/**
 * Every kind of record Substrate writes to Kafka and its state stores, each with the schema this build writes:
 * the three event envelopes (one per log topic) and what the fold decides.
 */
public enum WireSchema {
    /** Every record on {@code substrate.run-events}. */
    RUN("run-event", RunEvent.class, RunEvent.getClassSchema()),
    /** Every record on {@code substrate.room-events}. */
    ROOM("room-event", RoomEvent.class, RoomEvent.getClassSchema()),
    /** Every record on {@code substrate.artifact-events}. */
    ARTIFACT("artifact-event", ArtifactEvent.class, ArtifactEvent.getClassSchema()),
    /** Latest run state: {@code substrate.runs} and the runs store. */
    RUN_STATE("run-state", RunState.class, RunState.getClassSchema()),
    /** Latest room state: {@code substrate.rooms} and the rooms store. */
    ROOM_STATE("room-state", RoomState.class, RoomState.getClassSchema()),
    /** Latest artifact state: {@code substrate.artifacts} and the artifacts store. */
    ARTIFACT_STATE("artifact-state", ArtifactState.class, ArtifactState.getClassSchema()),
    /** One entry of a room transcript, in the transcript store. */
    TRANSCRIPT_ENTRY("transcript-entry", TranscriptEntry.class, TranscriptEntry.getClassSchema()),
    /** The fold's outcome for one event, in the event-outcomes store. */
    EVENT_OUTCOME("event-outcome", EventOutcome.class, EventOutcome.getClassSchema()),
    /** An event the fold refused: {@code substrate.rejections}. */
    REJECTION("rejection", Rejection.class, Rejection.getClassSchema()),
    /** Usage summed by project, day, model and run: the run-usage and room-usage stores. */
    USAGE_TOTAL("usage-total", UsageTotal.class, UsageTotal.getClassSchema());

    static {
        TrustedEventClasses.register();
    }

    private final String fileName;
    private final Class<? extends SpecificRecord> type;
    private final Schema current;

    WireSchema(String fileName, Class<? extends SpecificRecord> type, Schema current) {
        this.fileName = fileName;
        this.type = type;
        this.current = current;
    }

    /** The name of the schema's folder of released versions, e.g. {@code run-event}. */
    public String fileName() {
        return fileName;
    }

    /** The generated class. */
    public Class<? extends SpecificRecord> type() {
        return type;
    }

    /** The schema this build writes. */
    public Schema currentSchema() {
        return current;
    }
}
