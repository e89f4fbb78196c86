package dev.substrate.streams.internal;

import dev.substrate.streams.RoomMembership;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The memberships of the rooms this instance's fold holds, kept in memory for the door of every room append: an
 * access decision reads a room's project and members here instead of decoding its whole state from the store (a
 * third of an HTTP append's time while rooms stream).
 *
 * <p>The room fold writes what it changes ({@link #changing} before its store write, {@link #changed} after), and
 * forgets a partition when its task starts or closes ({@link #forget}), so a task restored or moved back never serves
 * what it knew before. Readers fill what is missing from the store ({@link #fill}); a fill is dropped when any
 * membership changed since its read began ({@link #generation}), so a fill never puts back what the fold has just
 * replaced. Bounded: at most {@value #MAX_ROOMS} rooms, the least recently used forgotten first (read again from the
 * store when asked). Thread-safe.
 */
public final class RoomMemberships {

    /** The most rooms remembered. */
    static final int MAX_ROOMS = 20_000;

    /** A room's membership as known (empty: the room does not exist), and the partition it belongs to. */
    private record Known(int partition, Optional<RoomMembership> membership) {}

    private final LinkedHashMap<String, Known> rooms = new LinkedHashMap<>(256, 0.75f, true);
    private long generation;

    /**
     * The room's membership as remembered: null when it is not (read the store, then {@link #fill}); an empty
     * optional when the room is known not to exist.
     */
    public synchronized Optional<RoomMembership> get(String roomId) {
        Known known = rooms.get(roomId);
        return known == null ? null : known.membership();
    }

    /** A count that grows with every change the fold makes: read it before reading the store for a {@link #fill}. */
    public synchronized long generation() {
        return generation;
    }

    /**
     * Remembers what a reader read from the store (empty: no room), unless a membership changed since it read {@code
     * generationBefore}.
     */
    public synchronized void fill(
            int partition, String roomId, long generationBefore, Optional<RoomMembership> membership) {
        if (generation == generationBefore) {
            remember(roomId, new Known(partition, membership));
        }
    }

    /** The fold is about to write a change of the room's membership (or its creation or deletion) to its store. */
    synchronized void changing(String roomId) {
        generation++;
        rooms.remove(roomId);
    }

    /** The fold wrote the room's membership (empty: it deleted the room). */
    synchronized void changed(int partition, String roomId, Optional<RoomMembership> membership) {
        generation++;
        remember(roomId, new Known(partition, membership));
    }

    /** Forgets every room of {@code partition}: its task starts (its store may have been restored) or closes. */
    synchronized void forget(int partition) {
        generation++;
        rooms.values().removeIf(known -> known.partition() == partition);
    }

    /** How many rooms it remembers. */
    synchronized int size() {
        return rooms.size();
    }

    private void remember(String roomId, Known known) {
        rooms.put(roomId, known);
        Iterator<Map.Entry<String, Known>> eldest = rooms.entrySet().iterator();
        while (rooms.size() > MAX_ROOMS && eldest.hasNext()) {
            eldest.next();
            eldest.remove();
        }
    }
}
