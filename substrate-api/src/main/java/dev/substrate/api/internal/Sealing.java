package dev.substrate.api.internal;

import dev.substrate.config.EventSettings;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.crypto.ContentKeys;
import dev.substrate.crypto.RoomContent;
import dev.substrate.entity.EntityKind;
import dev.substrate.event.EventValidator;
import dev.substrate.events.room.RoomCreated;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.streams.ContentOpener;
import dev.substrate.topic.Topics;
import java.time.Clock;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.avro.specific.SpecificRecord;

/**
 * Where the API seals and opens rooms' content, for the projects of {@code encryption.projects}: a room event is
 * sealed as it is appended (its room's project covered, or its room already holding a key), and opened as it is read,
 * from the state stores ({@link #opener}) and from the room log ({@link #open}). With no project to encrypt, both
 * return what they are given.
 */
final class Sealing implements AutoCloseable {

    /** The most rooms created here whose project is remembered until the fold has applied their creation. */
    static final int CREATED_REMEMBERED = 10_000;

    private final Optional<ContentKeys> keys;
    private final EventValidator validator;
    /** The project of each room created here lately, least recently used out first. */
    private final Map<String, String> created = Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > CREATED_REMEMBERED;
        }
    });

    Sealing(SubstrateConfig config, Topics topics) {
        this.keys = ContentKeys.start(config, topics);
        this.validator = new EventValidator(config.get(EventSettings.MAX_EVENT_BYTES), Clock.systemUTC());
    }

    /** The keys, when any project is encrypted. */
    Optional<ContentKeys> keys() {
        return keys;
    }

    /**
     * {@code event} with its content sealed when its room is encrypted: {@code project} (its room's, or the one it
     * creates; null when the room is not known yet) is covered, or the room already has a key. With encryption on, an
     * event for a room not known is refused (404): it cannot be told whether it is to be sealed.
     */
    RoomEvent seal(RoomEvent event, String project) {
        if (keys.isEmpty()) {
            return event;
        }
        ContentKeys content = keys.get();
        String subject = ContentKeys.room(event.getRoomId());
        if (event.getPayload() instanceof RoomCreated) {
            // Remembered for the events that follow it before the fold applied it (the rest of a batch, say).
            created.put(event.getRoomId(), project);
        } else if (project == null) {
            project = created.get(event.getRoomId());
        }
        if (project == null && !content.has(subject)) {
            // Whether it is to be sealed cannot be told: an event for a room not known (deleted, erased, or created
            // a moment ago elsewhere) is refused here rather than appended plain.
            throw Problem.ofStatus(
                    404,
                    "Not found",
                    "room " + event.getRoomId() + " does not exist (yet): where rooms are encrypted, an event is"
                            + " appended only to a room whose creation is applied; retry once it is");
        }
        if (!content.covers(project) && !content.has(subject)) {
            return event;
        }
        // Checked plain first, so that a 400 names the field as the caller wrote it; the sealed event is checked again
        // as it is appended (sealed text is longer: a text near a limit may pass plain and not sealed).
        validator.validate(event);
        String roomProject = project;
        try {
            if (event.getPayload() instanceof RoomCreated) {
                // Its key is made with it (read back before the creation is appended), text or not, so that every
                // instance knows the room is sealed from its first event on.
                content.prepare(subject, roomProject);
            }
            return RoomContent.seal(event, text -> content.seal(subject, roomProject, text));
        } catch (ContentKeys.KeysUnavailable e) {
            throw Problem.unavailable(e.getMessage());
        }
    }

    /** {@code event}, read from the room log, with its content opened. */
    RoomEvent open(RoomEvent event) {
        return keys.map(content ->
                        RoomContent.open(event, text -> content.open(ContentKeys.room(event.getRoomId()), text)))
                .orElse(event);
    }

    /** What opens the rooms' content the state stores hold. */
    ContentOpener opener() {
        if (keys.isEmpty()) {
            return ContentOpener.NONE;
        }
        ContentKeys content = keys.get();
        return new ContentOpener() {
            @Override
            public <T extends SpecificRecord> T open(EntityKind<?, ?> kind, String id, T record) {
                return kind == EntityKind.ROOM
                        ? RoomContent.open(record, text -> content.open(ContentKeys.room(id), text))
                        : record;
            }
        };
    }

    /** Destroys the keys of room {@code roomId}: the ids destroyed (none when it had none). */
    List<String> destroy(String roomId) {
        return keys.map(content -> content.destroy(ContentKeys.room(roomId))).orElse(List.of());
    }

    @Override
    public void close() {
        keys.ifPresent(ContentKeys::close);
    }
}
