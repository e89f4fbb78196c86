package dev.substrate.streams;

import dev.substrate.events.room.RoomRole;
import dev.substrate.state.RoomState;
import java.util.Map;

/**
 * What an access decision about a room reads of it: its project and members. Much smaller than the room's state,
 * which also carries its open blocks' text.
 *
 * @param roomId the room
 * @param project its project; null when it has none
 * @param members its members and their roles (none: a room every appender reaches)
 */
public record RoomMembership(String roomId, String project, Map<String, RoomRole> members) {

    public RoomMembership {
        members = Map.copyOf(members);
    }

    /** The membership of {@code room}. */
    public static RoomMembership of(RoomState room) {
        return new RoomMembership(room.getRoomId(), room.getProject(), room.getMembers());
    }
}
