package dev.substrate.blob.internal;

import dev.substrate.blob.BlobStore;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.topic.Topics;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The bytes of one blob, or a range of them, read from its chunks in Kafka: a consumer of its own seeks to each
 * chunk it needs and holds one chunk (and one fetch) at a time. The chunks are read by offset, as the blob's index
 * record names them, so records of uncommitted or aborted uploads around them are never read as the blob's. A whole
 * blob read to its end is copied into the {@link BlobCache} if its digest checks out.
 */
public final class ChunkStream extends InputStream {

    private static final Duration CHUNK_WAIT = Duration.ofSeconds(30);

    private final SubstrateConfig config;
    private final TopicPartition partition;
    private final BlobStore.Location location;
    private final Runnable onClose;
    private final String digest;
    private final BlobCache cache;
    private final Path copy;
    private OutputStream copyOut;
    private MessageDigest copyDigest;
    private KafkaConsumer<byte[], byte[]> consumer;
    private int chunk;
    private int skip;
    private long remaining;
    private byte[] current = new byte[0];
    private int pos;
    private long nextOffset = -1;
    private boolean closed;

    /**
     * @param first the first byte to read
     * @param length how many bytes to read
     * @param copy where to copy the whole blob for the cache, or null not to
     * @param onClose run once, when the stream is closed
     */
    public ChunkStream(
            SubstrateConfig config,
            String topic,
            BlobStore.Location location,
            long first,
            long length,
            Path copy,
            String digest,
            BlobCache cache,
            Runnable onClose) {
        this.config = config;
        this.partition = new TopicPartition(topic, location.partition());
        this.location = location;
        this.onClose = onClose;
        this.digest = digest;
        this.cache = cache;
        this.copy = copy;
        this.chunk = (int) (first / location.chunkBytes());
        this.skip = (int) (first % location.chunkBytes());
        this.remaining = length;
    }

    /** {@code length} bytes of {@code in} after its first {@code skip}. */
    public static InputStream slice(InputStream in, long skip, long length) {
        try {
            in.skipNBytes(skip);
        } catch (IOException e) {
            try {
                in.close();
            } catch (IOException ignored) {
                // The skip's failure is the one to report.
            }
            throw new java.io.UncheckedIOException(e);
        }
        return new FilterInputStream(in) {
            private long left = length;

            @Override
            public int read() throws IOException {
                if (left <= 0) {
                    return -1;
                }
                int b = super.read();
                if (b >= 0) {
                    left--;
                }
                return b;
            }

            @Override
            public int read(byte[] buffer, int off, int len) throws IOException {
                if (left <= 0) {
                    return -1;
                }
                int read = super.read(buffer, off, (int) Math.min(len, left));
                if (read > 0) {
                    left -= read;
                }
                return read;
            }
        };
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buffer, int off, int len) throws IOException {
        if (closed) {
            throw new IOException("the blob's stream is closed");
        }
        if (len == 0) {
            return 0;
        }
        if (remaining <= 0) {
            finishCopy();
            return -1;
        }
        if (pos == current.length) {
            load();
        }
        int n = (int) Math.min(Math.min(len, current.length - pos), remaining);
        System.arraycopy(current, pos, buffer, off, n);
        if (copy != null) {
            copy(current, pos, n);
        }
        pos += n;
        remaining -= n;
        if (remaining == 0) {
            finishCopy();
        }
        return n;
    }

    private void load() throws IOException {
        if (chunk >= location.offsets().length) {
            throw new IOException("the blob ends before its index says it does");
        }
        long wanted = location.offsets()[chunk];
        try {
            if (consumer == null) {
                consumer = consumer();
                consumer.assign(List.of(partition));
            }
            if (nextOffset != wanted) {
                consumer.seek(partition, wanted);
            }
            long deadline = System.nanoTime() + CHUNK_WAIT.toNanos();
            while (true) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    if (record.offset() < wanted) {
                        continue;
                    }
                    if (record.offset() > wanted
                            || !(location.uploadId() + "/" + chunk)
                                    .equals(new String(record.key(), StandardCharsets.UTF_8))) {
                        throw new IOException("chunk " + chunk + " of the blob is not at offset " + wanted + " of "
                                + partition + " any more");
                    }
                    current = record.value();
                    pos = skip;
                    skip = 0;
                    chunk++;
                    nextOffset = wanted + 1;
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw new IOException("chunk " + chunk + " of the blob could not be read from " + partition
                            + " within " + CHUNK_WAIT.toSeconds() + " s");
                }
            }
        } catch (KafkaException e) {
            throw new IOException("the blob could not be read from Kafka: " + e.getMessage(), e);
        }
    }

    private KafkaConsumer<byte[], byte[]> consumer() {
        Map<String, Object> props = new HashMap<>(config.kafkaProperties(ConsumerConfig.configNames()));
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        // By offset, from the index: an open transaction elsewhere in the partition must not hold the read up.
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "substrate-blob-reader");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1);
        int fetch = Topics.recordLimit(location.chunkBytes());
        props.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, fetch);
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, fetch);
        return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private void copy(byte[] bytes, int offset, int length) {
        try {
            if (copyOut == null) {
                copyOut = BlobCache.write(copy);
                copyDigest = MessageDigest.getInstance("SHA-256");
            }
            copyOut.write(bytes, offset, length);
            copyDigest.update(bytes, offset, length);
        } catch (IOException | RuntimeException | NoSuchAlgorithmException e) {
            // The cache is a convenience: the reader still gets every byte.
            dropCopy();
        }
    }

    private void finishCopy() {
        if (copy == null || copyOut == null) {
            return;
        }
        try {
            copyOut.close();
            copyOut = null;
            String copied = "sha256:" + HexFormat.of().formatHex(copyDigest.digest());
            if (copied.equals(digest)) {
                cache.admit(digest, copy, location.size());
            } else {
                Files.deleteIfExists(copy);
            }
        } catch (IOException e) {
            dropCopy();
        }
    }

    private void dropCopy() {
        try {
            if (copyOut != null) {
                copyOut.close();
            }
            Files.deleteIfExists(copy);
        } catch (IOException e) {
            // Left in incoming/, emptied at the next start.
        }
        copyOut = null;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (consumer != null) {
                consumer.close(CloseOptions.timeout(Duration.ofSeconds(1)));
            }
            if (copy != null) {
                // Gone already once admitted; a copy cut short is never kept.
                dropCopy();
            }
        } finally {
            onClose.run();
        }
    }
}
