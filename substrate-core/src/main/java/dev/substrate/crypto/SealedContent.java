package dev.substrate.crypto;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import javax.crypto.SecretKey;

/**
 * An artifact's bytes sealed under its room's key, in segments that can be opened one by one (so that a range is read
 * without the whole): {@code SSB1}, the key id's length and the key id, then for each segment of {@link #SEGMENT}
 * plain bytes (the last one shorter, possibly empty) its nonce, ciphertext and tag (AES-256-GCM), bound to the room,
 * to the segment's index and to whether it is the last (so that segments cannot be reordered, dropped or cut).
 */
public final class SealedContent {

    /** The plain bytes of one segment (the last one holds the rest). */
    public static final int SEGMENT = 64 * 1024;

    /** What sealing adds to each segment: its nonce and its tag. */
    public static final int OVERHEAD = 12 + 16;

    private static final byte[] MAGIC = {'S', 'S', 'B', '1'};

    /** The header's length: the magic, one byte of length, a 16-character key id. */
    public static final int HEADER = MAGIC.length + 1 + 16;

    private SealedContent() {}

    /** The sealed length of {@code plain} plain bytes: one segment at least (an empty one for empty content). */
    public static long sealedSize(long plain) {
        long segments = Math.max(1, (plain + SEGMENT - 1) / SEGMENT);
        return HEADER + plain + segments * OVERHEAD;
    }

    /** The plain length of content sealed into {@code sealed} bytes. */
    public static long plainSize(long sealed) {
        long body = sealed - HEADER;
        long full = body / (SEGMENT + OVERHEAD);
        long rest = body % (SEGMENT + OVERHEAD);
        return full * SEGMENT + (rest > 0 ? rest - OVERHEAD : 0);
    }

    /** Whether {@code header} (the first {@link #HEADER} bytes of stored content) begins sealed content. */
    public static boolean isSealed(byte[] header) {
        return header.length >= HEADER && Arrays.equals(Arrays.copyOf(header, MAGIC.length), MAGIC);
    }

    /** {@code plain} sealed as it is read, under {@code key} ({@code keyId}) of {@code subject}. */
    static InputStream seal(InputStream plain, String keyId, SecretKey key, String subject) {
        byte[] id = keyId.getBytes(StandardCharsets.US_ASCII);
        if (id.length != 16) {
            throw new IllegalArgumentException("a key id is 16 characters");
        }
        byte[] header = new byte[HEADER];
        System.arraycopy(MAGIC, 0, header, 0, MAGIC.length);
        header[MAGIC.length] = (byte) id.length;
        System.arraycopy(id, 0, header, MAGIC.length + 1, id.length);
        return new Segments(header) {
            private byte[] next;
            private long index;
            private boolean done;

            @Override
            byte[] nextSegment() throws IOException {
                if (done) {
                    return null;
                }
                byte[] current = next != null ? next : plain.readNBytes(SEGMENT);
                boolean last;
                if (current.length < SEGMENT) {
                    last = true;
                    next = null;
                } else {
                    // A full segment is the last one only when nothing follows it: look one segment ahead.
                    next = plain.readNBytes(SEGMENT);
                    last = next.length == 0;
                }
                done = last;
                return MasterKeys.seal(key, current, aad(subject, index++, last));
            }
        };
    }

    /**
     * The plain bytes {@code first} to {@code last} (inclusive) of content sealed under {@code key} for {@code
     * subject}, {@code sealedSize} bytes long, read from {@code sealedFrom}: the sealed bytes from {@link
     * #sealedStart}({@code first}) to its end, as the stored content's own range.
     */
    static InputStream open(
            InputStream sealedFrom, SecretKey key, String subject, long sealedSize, long first, long last) {
        long segments = (sealedSize - HEADER + SEGMENT + OVERHEAD - 1) / (SEGMENT + OVERHEAD);
        long firstSegment = first / SEGMENT;
        long lastSegment = last / SEGMENT;
        return new Segments(new byte[0]) {
            private long index = firstSegment;

            @Override
            byte[] nextSegment() throws IOException {
                if (index > lastSegment) {
                    return null;
                }
                boolean isLast = index == segments - 1;
                long sealedLength = isLast ? sealedSize - HEADER - index * (SEGMENT + OVERHEAD) : SEGMENT + OVERHEAD;
                byte[] sealed = sealedFrom.readNBytes((int) sealedLength);
                if (sealed.length != sealedLength) {
                    throw new IOException("the sealed content ends early");
                }
                byte[] plain;
                try {
                    plain = MasterKeys.open(key, sealed, aad(subject, index, isLast));
                } catch (GeneralSecurityException e) {
                    throw new IOException("the sealed content does not open: " + e.getMessage(), e);
                }
                int from = index == firstSegment ? (int) (first % SEGMENT) : 0;
                int to = index == lastSegment ? (int) (last % SEGMENT) + 1 : plain.length;
                index++;
                return Arrays.copyOfRange(plain, from, Math.min(to, plain.length));
            }
        };
    }

    /** Where the sealed bytes that hold plain byte {@code first} start. */
    public static long sealedStart(long first) {
        return HEADER + (first / SEGMENT) * (SEGMENT + OVERHEAD);
    }

    /** The key id in a sealed content's header. */
    static String keyId(byte[] header) {
        return new String(header, MAGIC.length + 1, header[MAGIC.length], StandardCharsets.US_ASCII);
    }

    private static byte[] aad(String subject, long index, boolean last) {
        return ("substrate-content-bytes\0" + subject + "\0" + index + "\0" + (last ? "last" : "more"))
                .getBytes(StandardCharsets.UTF_8);
    }

    /** A stream of a header, then segments made one at a time. */
    private abstract static class Segments extends InputStream {
        private byte[] buffer;
        private int at;

        Segments(byte[] header) {
            this.buffer = header;
        }

        /** The next segment's bytes, or null at the end. */
        abstract byte[] nextSegment() throws IOException;

        private boolean fill() throws IOException {
            while (buffer != null && at >= buffer.length) {
                buffer = nextSegment();
                at = 0;
            }
            return buffer != null;
        }

        @Override
        public int read() throws IOException {
            return fill() ? buffer[at++] & 0xff : -1;
        }

        @Override
        public int read(byte[] into, int offset, int length) throws IOException {
            if (length == 0) {
                return 0;
            }
            if (!fill()) {
                return -1;
            }
            int n = Math.min(length, buffer.length - at);
            System.arraycopy(buffer, at, into, offset, n);
            at += n;
            return n;
        }
    }
}
