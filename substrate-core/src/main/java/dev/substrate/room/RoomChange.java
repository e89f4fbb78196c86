package dev.substrate.room;

import dev.substrate.state.RoomState;
import dev.substrate.state.TranscriptEntry;
import java.util.List;

/**
 * What one applied room event changes: the room's new state, and its transcript.
 *
 * @param state the room afterwards; null when the event deleted it
 * @param entriesPut transcript entries to write (keyed by room and offset)
 * @param entriesRemoved offsets of transcript entries to remove (a lightweight room keeps only the last 100)
 * @param transcriptPurged whether the room's whole transcript is to be removed (the room was deleted)
 */
public record RoomChange(
        RoomState state, List<TranscriptEntry> entriesPut, List<Long> entriesRemoved, boolean transcriptPurged) {

    public RoomChange {
        entriesPut = List.copyOf(entriesPut);
        entriesRemoved = List.copyOf(entriesRemoved);
    }
}
