package dev.substrate.streams.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.substrate.events.room.RoomRole;
import dev.substrate.streams.RoomMembership;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The fold's memberships: what it changed wins over any read that began before, and a restarted task's are gone. */
class RoomMembershipsTest {

    private static final Optional<RoomMembership> WRITER =
            Optional.of(new RoomMembership("room-1", "p:1", Map.of("svc", RoomRole.writer)));
    private static final Optional<RoomMembership> NONE = Optional.of(new RoomMembership("room-1", "p:1", Map.of()));

    @Test
    void aReadThatBeganBeforeAChangeIsNotRemembered() {
        RoomMemberships memberships = new RoomMemberships();
        assertThat(memberships.get("room-1"))
                .as("not known yet: read the store")
                .isNull();

        long before = memberships.generation();
        // The fold revokes the member while a reader holds what it read before.
        memberships.changing("room-1");
        memberships.changed(0, "room-1", NONE);
        memberships.fill(0, "room-1", before, WRITER);

        assertThat(memberships.get("room-1")).isEqualTo(NONE);
    }

    @Test
    void aReadWithNoChangeSinceIsRememberedAndAChangeReplacesIt() {
        RoomMemberships memberships = new RoomMemberships();
        memberships.fill(0, "room-1", memberships.generation(), WRITER);
        assertThat(memberships.get("room-1")).isEqualTo(WRITER);

        memberships.changing("room-1");
        assertThat(memberships.get("room-1"))
                .as("while the fold writes: read the store")
                .isNull();
        memberships.changed(0, "room-1", Optional.empty());
        assertThat(memberships.get("room-1")).as("deleted").isEmpty();
    }

    @Test
    void aTaskThatStartsOrClosesForgetsItsPartitionOnly() {
        RoomMemberships memberships = new RoomMemberships();
        memberships.changed(0, "room-1", WRITER);
        memberships.changed(1, "room-2", WRITER);

        memberships.forget(0);

        assertThat(memberships.get("room-1")).isNull();
        assertThat(memberships.get("room-2")).isEqualTo(WRITER);
    }

    @Test
    void itRemembersAtMostItsBoundOfRooms() {
        RoomMemberships memberships = new RoomMemberships();
        for (int i = 0; i <= RoomMemberships.MAX_ROOMS; i++) {
            memberships.changed(0, "room-" + i, WRITER);
        }
        assertThat(memberships.size()).isEqualTo(RoomMemberships.MAX_ROOMS);
        assertThat(memberships.get("room-0"))
                .as("the least recently used went first")
                .isNull();
        assertThat(memberships.get("room-" + RoomMemberships.MAX_ROOMS)).isEqualTo(WRITER);
    }
}
