package dev.substrate.fold;

import java.util.Objects;

/**
 * One part of a long block's text: a block whose text passes {@code block.part.bytes} is stored as its parts, in
 * order, and its transcript entry, whose {@code parts} says how many precede the entry's own text. Readers join
 * them; the join is the block's text, byte for byte.
 *
 * @param blockOffset the offset of the block's {@code BlockStarted} (where its transcript entry stands)
 * @param index the part's place, from 0
 * @param text the part's text; null in a list of parts to remove
 */
public record BlockPart(long blockOffset, int index, String text) {

    public BlockPart {
        if (index < 0) {
            throw new IllegalArgumentException("a part index is never negative, was " + index);
        }
    }

    /** The key of part {@code index} of a block, to remove it. */
    public static BlockPart removal(long blockOffset, int index) {
        return new BlockPart(blockOffset, index, null);
    }

    /** The text, which a part to write always has. */
    public String requireText() {
        return Objects.requireNonNull(text, "a part to write has text");
    }
}
