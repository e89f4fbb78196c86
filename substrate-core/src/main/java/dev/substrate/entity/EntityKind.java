package dev.substrate.entity;

import dev.substrate.event.EventValidator;
import dev.substrate.event.WireCodec;
import dev.substrate.events.artifact.ArtifactEvent;
import dev.substrate.events.artifact.ArtifactRegistered;
import dev.substrate.events.common.Correlation;
import dev.substrate.events.room.RoomCreated;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.run.RunCreated;
import dev.substrate.events.run.RunEvent;
import dev.substrate.state.ArtifactState;
import dev.substrate.state.RoomState;
import dev.substrate.state.RunState;
import dev.substrate.topic.Topic;
import dev.substrate.topic.Topics;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.avro.specific.SpecificRecordBase;

/**
 * One kind of entity Substrate keeps, run, room or artifact, with what differs between them: its name, its event
 * log and state topic, the codecs of its events and state, and how to read an event's ids. The client, the fold,
 * the queries and the HTTP routes are written once against this descriptor instead of once per kind (as Kafka's
 * {@code ApiKeys} binds each protocol API's id, name and schemas for the network layer).
 *
 * @param <E> the event envelope ({@code RunEvent}, ...)
 * @param <S> the state ({@code RunState}, ...)
 */
public final class EntityKind<E extends SpecificRecord, S extends SpecificRecord> {

    /** Runs: {@code substrate.run-events}, folded into {@code substrate.runs}. */
    public static final EntityKind<RunEvent, RunState> RUN = new EntityKind<>(
            "run",
            RunEvent.getClassSchema(),
            RunCreated.getClassSchema(),
            WireCodec.RUN,
            WireCodec.RUN_STATE,
            Topics::runEvents,
            Topics::runs,
            RunEvent::getRunId,
            RunEvent::getEventId,
            RunEvent::getActor,
            RunEvent::getPayload);

    /** Rooms: {@code substrate.room-events}, folded into {@code substrate.rooms}. */
    public static final EntityKind<RoomEvent, RoomState> ROOM = new EntityKind<>(
            "room",
            RoomEvent.getClassSchema(),
            RoomCreated.getClassSchema(),
            WireCodec.ROOM,
            WireCodec.ROOM_STATE,
            Topics::roomEvents,
            Topics::rooms,
            RoomEvent::getRoomId,
            RoomEvent::getEventId,
            RoomEvent::getActor,
            RoomEvent::getPayload);

    /** Artifacts: {@code substrate.artifact-events}, folded into {@code substrate.artifacts}. */
    public static final EntityKind<ArtifactEvent, ArtifactState> ARTIFACT = new EntityKind<>(
            "artifact",
            ArtifactEvent.getClassSchema(),
            ArtifactRegistered.getClassSchema(),
            WireCodec.ARTIFACT,
            WireCodec.ARTIFACT_STATE,
            Topics::artifactEvents,
            Topics::artifacts,
            ArtifactEvent::getArtifactId,
            ArtifactEvent::getEventId,
            ArtifactEvent::getActor,
            ArtifactEvent::getPayload);

    private static final List<EntityKind<?, ?>> ALL = List.of(RUN, ROOM, ARTIFACT);

    private final String name;
    private final Schema envelope;
    private final Schema creation;
    private final WireCodec<E> events;
    private final WireCodec<S> states;
    private final Function<Topics, Topic> log;
    private final Function<Topics, Topic> stateTopic;
    private final Function<E, String> entityId;
    private final Function<E, String> eventId;
    private final Function<E, String> actor;
    private final Function<E, Object> payload;

    private EntityKind(
            String name,
            Schema envelope,
            Schema creation,
            WireCodec<E> events,
            WireCodec<S> states,
            Function<Topics, Topic> log,
            Function<Topics, Topic> stateTopic,
            Function<E, String> entityId,
            Function<E, String> eventId,
            Function<E, String> actor,
            Function<E, Object> payload) {
        this.name = name;
        this.envelope = envelope;
        this.creation = creation;
        this.events = events;
        this.states = states;
        this.log = log;
        this.stateTopic = stateTopic;
        this.entityId = entityId;
        this.eventId = eventId;
        this.actor = actor;
        this.payload = payload;
    }

    /** Every kind: run, room, artifact. */
    public static List<EntityKind<?, ?>> all() {
        return ALL;
    }

    /**
     * The kind named {@code name} ({@code run}, {@code room} or {@code artifact}).
     *
     * @throws IllegalArgumentException for any other name
     */
    public static EntityKind<?, ?> of(String name) {
        return ALL.stream()
                .filter(kind -> kind.name.equals(name))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no entity kind " + name));
    }

    /** The lower-case name outcomes, rejections and paths use: {@code run}, {@code room}, {@code artifact}. */
    public String name() {
        return name;
    }

    /** The name of the id field in events and JSON: {@code runId}, {@code roomId}, {@code artifactId}. */
    public String idField() {
        return name + "Id";
    }

    /** The Avro schema of its event envelope. */
    public Schema envelopeSchema() {
        return envelope;
    }

    /** The Avro schema of the event that creates one ({@code RunCreated}, ...). */
    public Schema creationSchema() {
        return creation;
    }

    /** The codec of its events, as its log carries them. */
    public WireCodec<E> eventCodec() {
        return events;
    }

    /** The codec of its state, as its state topic and the fold's stores carry it. */
    public WireCodec<S> stateCodec() {
        return states;
    }

    /** Its event log among {@code topics}. */
    public Topic log(Topics topics) {
        return log.apply(topics);
    }

    /** Its compacted state topic among {@code topics}. */
    public Topic stateTopic(Topics topics) {
        return stateTopic.apply(topics);
    }

    /** The id of the entity {@code event} is for (also its record key). */
    public String entityId(E event) {
        return entityId.apply(event);
    }

    /** The id of {@code event}. */
    public String eventId(E event) {
        return eventId.apply(event);
    }

    /** Who appended {@code event}; null when not named. */
    public String actor(E event) {
        return actor.apply(event);
    }

    /** What {@code event} says happened. */
    public Object payload(E event) {
        return payload.apply(event);
    }

    /** Checks {@code event} with the door rules, judging its time against {@code now}. */
    public void validate(EventValidator validator, E event, Instant now) {
        if (event instanceof RunEvent run) {
            validator.validate(run, now);
        } else if (event instanceof RoomEvent room) {
            validator.validate(room, now);
        } else {
            validator.validate((ArtifactEvent) event, now);
        }
    }

    /** Whether {@code event} is an event of this kind. */
    public boolean isEvent(Object event) {
        return event != null
                && envelope.getFullName()
                        .equals(((SpecificRecord) event).getSchema().getFullName());
    }

    /** {@code event} as an event of this kind. */
    @SuppressWarnings("unchecked")
    public E cast(Object event) {
        if (!isEvent(event)) {
            throw new ClassCastException(event + " is not a " + name + " event");
        }
        return (E) event;
    }

    /** An event of this kind with the envelope's fields as given; the validator checks them. */
    @SuppressWarnings("unchecked")
    public E event(
            String eventId,
            String entityId,
            Instant occurredAt,
            String actor,
            Correlation correlation,
            Long expectedVersion,
            Object payload) {
        SpecificRecordBase event = (SpecificRecordBase) SpecificData.get().newRecord(null, envelope);
        event.put("eventId", eventId);
        event.put(idField(), entityId);
        event.put("occurredAt", occurredAt);
        event.put("actor", actor);
        event.put("correlation", Objects.requireNonNull(correlation, "correlation"));
        event.put("expectedVersion", expectedVersion);
        event.put("payload", payload);
        return (E) event;
    }

    @Override
    public String toString() {
        return name;
    }
}
