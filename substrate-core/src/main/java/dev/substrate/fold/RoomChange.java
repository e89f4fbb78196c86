package dev.substrate.fold;

import dev.substrate.state.RoomState;
import dev.substrate.state.TranscriptEntry;
import java.util.List;

/**
 * What one applied room event changes: the room's new state, and its transcript.
 *
 * @param state the room afterwards; null when the event deleted it
 * @param entriesPut transcript entries to write (keyed by room and offset)
 * @param entriesRemoved offsets of transcript entries to remove, with their parts (a lightweight room keeps only
 *     the last 100)
 * @param partsPut parts of long blocks' text to write ({@link BlockPart})
 * @param partsRemoved parts no longer part of a block (a completion that replaced the text with a shorter one)
 * @param transcriptPurged whether the room's whole transcript is to be removed (the room was deleted)
 */
public record RoomChange(
        RoomState state,
        List<TranscriptEntry> entriesPut,
        List<Long> entriesRemoved,
        List<BlockPart> partsPut,
        List<BlockPart> partsRemoved,
        boolean transcriptPurged) {

    public RoomChange {
        entriesPut = List.copyOf(entriesPut);
        entriesRemoved = List.copyOf(entriesRemoved);
        partsPut = List.copyOf(partsPut);
        partsRemoved = List.copyOf(partsRemoved);
    }

    /** A change of the state and the transcript entries only. */
    public RoomChange(
            RoomState state, List<TranscriptEntry> entriesPut, List<Long> entriesRemoved, boolean transcriptPurged) {
        this(state, entriesPut, entriesRemoved, List.of(), List.of(), transcriptPurged);
    }
}
