package dev.substrate.schemas;

import dev.substrate.events.artifact.ArtifactEvent;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.run.RunEvent;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;

/** The three event envelopes, one per log topic, each with the schema this build writes. */
public enum Envelope {
    /** Every record on {@code substrate.run-events}. */
    RUN("run-event", RunEvent.class, RunEvent.getClassSchema()),
    /** Every record on {@code substrate.room-events}. */
    ROOM("room-event", RoomEvent.class, RoomEvent.getClassSchema()),
    /** Every record on {@code substrate.artifact-events}. */
    ARTIFACT("artifact-event", ArtifactEvent.class, ArtifactEvent.getClassSchema());

    static {
        TrustedEventClasses.register();
    }

    private final String fileName;
    private final Class<? extends SpecificRecord> type;
    private final Schema current;

    Envelope(String fileName, Class<? extends SpecificRecord> type, Schema current) {
        this.fileName = fileName;
        this.type = type;
        this.current = current;
    }

    /** The name of the envelope's folder of released versions, e.g. {@code run-event}. */
    public String fileName() {
        return fileName;
    }

    /** The generated class of the envelope. */
    public Class<? extends SpecificRecord> type() {
        return type;
    }

    /** The schema this build writes. */
    public Schema currentSchema() {
        return current;
    }
}
