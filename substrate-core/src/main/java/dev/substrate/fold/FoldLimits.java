package dev.substrate.fold;

import dev.substrate.topic.Topics;

/**
 * The sizes every record the fold writes keeps within, derived from the largest event accepted so that they agree
 * with the topics and producers Substrate configures ({@link Topics#recordLimit}).
 *
 * <p>Each event is checked on its own at the door; what events add up to (a block's text, a run's labels, a
 * room's members, an artifact's revisions) is checked here, before anything is written: a change that would make
 * a state or transcript record larger than {@link #maxRecordBytes()} is refused ({@link Reason#STATE_TOO_LARGE},
 * {@link Reason#ENTRY_TOO_LARGE}), a block's text is stored in parts of at most {@link #blockPartBytes()}, and a
 * block may hold at most {@link #blockMaxBytes()} of text in all ({@link Reason#BLOCK_TOO_LARGE}), so that every
 * reader that presents it whole holds a bounded amount.
 * The decision depends only on the log and these numbers, so every instance and every rebuild with the same
 * settings decides the same.
 *
 * @param maxEventBytes the largest encoded event accepted ({@code max.event.bytes})
 * @param maxRecordBytes the largest key plus value the fold writes to a store, its changelog or an output topic
 * @param blockPartBytes the most UTF-8 bytes of a block's text one record holds ({@code block.part.bytes})
 * @param blockMaxBytes the most UTF-8 bytes of text one block holds, all parts together ({@code block.max.bytes})
 */
public record FoldLimits(int maxEventBytes, int maxRecordBytes, int blockPartBytes, long blockMaxBytes) {

    /**
     * The default part size of a block's text: 16 KiB. An open block's text past its last part lives in the room's
     * state, which the fold copies, encodes and writes on every delta: the part size bounds what one delta costs,
     * whatever the block already holds.
     */
    public static final int DEFAULT_BLOCK_PART_BYTES = 16 * 1024;

    /** The default most text of one block: 16 MiB. */
    public static final long DEFAULT_BLOCK_MAX_BYTES = 16L * 1024 * 1024;

    /**
     * Room left in a topic's limit beyond {@link #maxRecordBytes()}: record batch overhead and the position headers
     * Kafka Streams adds to changelog records.
     */
    static final int WRITE_OVERHEAD = 32 * 1024;

    /** The longest message a rejection or outcome carries; longer ones are cut. */
    public static final int MAX_MESSAGE_CHARS = 2048;

    /** The longest id the fold records an outcome or rejection under (ids are at most 128 characters). */
    public static final int MAX_ID_CHARS = 128;

    public FoldLimits {
        if (blockPartBytes < 1024 || blockPartBytes > maxEventBytes) {
            throw new IllegalArgumentException("block.part.bytes must be between 1024 and max.event.bytes ("
                    + maxEventBytes + "), was " + blockPartBytes);
        }
        if (blockMaxBytes < blockPartBytes) {
            throw new IllegalArgumentException("block.max.bytes (" + blockMaxBytes
                    + ") must be at least block.part.bytes (" + blockPartBytes + ")");
        }
        if (maxRecordBytes < maxEventBytes) {
            throw new IllegalArgumentException(
                    "maxRecordBytes " + maxRecordBytes + " is less than maxEventBytes " + maxEventBytes);
        }
    }

    /**
     * The limits for events of up to {@code maxEventBytes}, with text stored in parts of {@code blockPartBytes} and
     * at most {@code blockMaxBytes} of it per block.
     */
    public static FoldLimits of(int maxEventBytes, int blockPartBytes, long blockMaxBytes) {
        return new FoldLimits(
                maxEventBytes, Topics.recordLimit(maxEventBytes) - WRITE_OVERHEAD, blockPartBytes, blockMaxBytes);
    }

    /** The limits for events of up to {@code maxEventBytes}, with text in parts of {@code blockPartBytes}. */
    public static FoldLimits of(int maxEventBytes, int blockPartBytes) {
        return of(maxEventBytes, blockPartBytes, Math.max(DEFAULT_BLOCK_MAX_BYTES, blockPartBytes));
    }

    /** The limits for events of up to {@code maxEventBytes}, with the default part size (or less, for small events). */
    public static FoldLimits of(int maxEventBytes) {
        return of(maxEventBytes, Math.min(DEFAULT_BLOCK_PART_BYTES, maxEventBytes));
    }

    /** Whether a record of {@code key} and a value of {@code valueBytes} fits. */
    public boolean fits(String key, int valueBytes) {
        return utf8Length(key) + (long) valueBytes <= maxRecordBytes;
    }

    /** The number of bytes {@code text} takes in UTF-8 (as Avro writes strings). */
    public static int utf8Length(CharSequence text) {
        long bytes = 0;
        for (int i = 0; i < text.length(); i += charsAt(text, i)) {
            bytes += utf8Width(text, i);
        }
        return (int) Math.min(Integer.MAX_VALUE, bytes);
    }

    /**
     * The UTF-8 bytes of the character at {@code index}: 4 for a surrogate pair (which {@link #charsAt} counts as
     * two chars), 3 for a lone surrogate (as the encoder replaces it), else 1 to 3.
     */
    public static int utf8Width(CharSequence text, int index) {
        char c = text.charAt(index);
        if (c < 0x80) {
            return 1;
        }
        if (c < 0x800) {
            return 2;
        }
        return charsAt(text, index) == 2 ? 4 : 3;
    }

    /** How many chars the character at {@code index} takes: 2 for a surrogate pair, else 1. */
    public static int charsAt(CharSequence text, int index) {
        return Character.isHighSurrogate(text.charAt(index))
                        && index + 1 < text.length()
                        && Character.isLowSurrogate(text.charAt(index + 1))
                ? 2
                : 1;
    }

    /** {@code text} cut to {@code maxChars} characters (never inside a surrogate pair), marked when cut. */
    public static String cut(String text, int maxChars) {
        if (text == null || text.length() <= maxChars) {
            return text;
        }
        int end = maxChars - 1;
        if (Character.isHighSurrogate(text.charAt(end - 1))) {
            end--;
        }
        return text.substring(0, end) + "…";
    }
}
