package dev.substrate.event;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificRecord;

/**
 * Each thread's encoding buffer and buffered Avro encoder, reused from record to record as Avro's own single-object
 * encoder reuses its stream: an unsynchronized byte buffer that grows as needed, a header written first, then the
 * body through one buffered encoder, and one copy out. Both wire formats encode through it.
 */
final class EncodeBuffer extends OutputStream {

    /** A buffer grown past this by one large record is dropped after it, not kept for the thread's life. */
    private static final int KEPT_BYTES = 1 << 20;

    private static final ThreadLocal<EncodeBuffer> BUFFERS = ThreadLocal.withInitial(EncodeBuffer::new);

    private byte[] bytes = new byte[1024];
    private int count;
    private BinaryEncoder encoder;

    private EncodeBuffer() {}

    /**
     * {@code header} followed by the Avro binary body of {@code record}, written with {@code writer}.
     *
     * @throws UncheckedIOException if Avro cannot write the record
     */
    static <T extends SpecificRecord> byte[] encode(byte[] header, DatumWriter<T> writer, T record, String what) {
        EncodeBuffer buffer = BUFFERS.get();
        try {
            // Reconfiguring the reused encoder first flushes what a write that threw left in it into this buffer;
            // the buffer is emptied after that, so no such bytes reach the next record.
            buffer.encoder = EncoderFactory.get().binaryEncoder(buffer, buffer.encoder);
            buffer.count = 0;
            buffer.write(header, 0, header.length);
            writer.write(record, buffer.encoder);
            buffer.encoder.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot encode " + what, e);
        }
        byte[] encoded = Arrays.copyOf(buffer.bytes, buffer.count);
        if (buffer.bytes.length > KEPT_BYTES) {
            buffer.bytes = new byte[1024];
        }
        return encoded;
    }

    @Override
    public void write(int b) {
        ensure(1);
        bytes[count++] = (byte) b;
    }

    @Override
    public void write(byte[] source, int offset, int length) {
        ensure(length);
        System.arraycopy(source, offset, bytes, count, length);
        count += length;
    }

    private void ensure(int more) {
        if (count + more > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, count + more));
        }
    }
}
