package dev.substrate.streams;

import dev.substrate.topic.Topic;
import dev.substrate.topic.Topics;
import java.util.Locale;
import java.util.function.Function;

/** The three kinds of entity the fold keeps state for, each with its event log and its stores. */
public enum Entity {
    /** Runs: {@code substrate.run-events}. */
    RUN(StoreNames.RUNS, StoreNames.RUN_EVENT_OUTCOMES, Topics::runEvents),
    /** Rooms: {@code substrate.room-events}. */
    ROOM(StoreNames.ROOMS, StoreNames.ROOM_EVENT_OUTCOMES, Topics::roomEvents),
    /** Artifacts: {@code substrate.artifact-events}. */
    ARTIFACT(StoreNames.ARTIFACTS, StoreNames.ARTIFACT_EVENT_OUTCOMES, Topics::artifactEvents);

    private final String stateStore;
    private final String outcomeStore;
    private final Function<Topics, Topic> log;

    Entity(String stateStore, String outcomeStore, Function<Topics, Topic> log) {
        this.stateStore = stateStore;
        this.outcomeStore = outcomeStore;
        this.log = log;
    }

    /** The lower-case name used in paths and outcomes: {@code run}, {@code room}, {@code artifact}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The entity of a lower-case name. */
    public static Entity of(String id) {
        return valueOf(id.toUpperCase(Locale.ROOT));
    }

    /** The store of current state, keyed by entity id. */
    public String stateStore() {
        return stateStore;
    }

    /** The store of decisions, keyed by event id; written for every record the fold reads. */
    public String outcomeStore() {
        return outcomeStore;
    }

    /** The event log the fold reads this entity's events from. */
    public Topic log(Topics topics) {
        return log.apply(topics);
    }
}
