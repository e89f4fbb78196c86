package dev.substrate.blob;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.substrate.config.SubstrateConfig;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SharedKafka;
import dev.substrate.testing.TestSettings;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Blobs in Kafka: written on one store, read whole and by range on another; refused uploads leave nothing. */
@ExtendWith(SharedKafka.class)
@Timeout(180)
class BlobStoreIT {

    /** Small chunks: a blob of a few hundred KiB has hundreds of them. */
    private static final int CHUNK = 1024;

    @TempDir
    Path dirA;

    @TempDir
    Path dirB;

    private KafkaCluster kafka;
    private String prefix;
    private BlobStore a;
    private BlobStore b;

    @BeforeEach
    void start(KafkaCluster kafka) throws Exception {
        this.kafka = kafka;
        prefix = "blobs" + UUID.randomUUID().toString().substring(0, 6) + ".";
        try (Admin admin = kafka.admin()) {
            TopicSetup.ensure(admin, Topics.from(config(dirA, 0)), 3, (short) -1);
        }
        a = started(config(dirA, 0));
        b = started(config(dirB, 64 * CHUNK));
    }

    @AfterEach
    void stop() {
        a.close();
        b.close();
    }

    private SubstrateConfig config(Path dir, long cacheBytes, String... more) {
        String[] settings = Stream.concat(Stream.of("blob.cache.bytes", Long.toString(cacheBytes)), Arrays.stream(more))
                .toArray(String[]::new);
        return SubstrateConfig.of(TestSettings.of(kafka, prefix, dir, prefix + "app", settings));
    }

    private static BlobStore started(SubstrateConfig config) throws InterruptedException {
        BlobStore store = BlobStore.start(config, CHUNK);
        assertThat(store.awaitReady(Duration.ofSeconds(30))).isTrue();
        return store;
    }

    @Test
    void aBlobOfManyChunksPutOnOneStoreIsReadWholeAndByRangeOnAnother() throws Exception {
        byte[] content = random(300 * CHUNK + 17);

        BlobStore.Blob blob = a.put(new ByteArrayInputStream(content), content.length, digest(content));

        assertThat(blob).isEqualTo(new BlobStore.Blob(digest(content), content.length));
        BlobStore.Blob found = found(b, blob.digest()).orElseThrow();
        assertThat(read(b.open(found))).isEqualTo(content);
        for (long[] range :
                new long[][] {{0, 0}, {CHUNK - 1, CHUNK}, {5, 5 * CHUNK + 3}, {content.length - 1, content.length - 1}
                }) {
            assertThat(read(b.open(found, range[0], range[1])))
                    .as("bytes %d-%d", range[0], range[1])
                    .isEqualTo(Arrays.copyOfRange(content, (int) range[0], (int) range[1] + 1));
        }
        assertThat(b.storedBytes()).isEqualTo(content.length);
    }

    @Test
    void theSameBytesAreStoredOnceAndAnEmptyBlobIsABlob() throws Exception {
        byte[] content = random(10 * CHUNK);

        BlobStore.Blob first = a.put(new ByteArrayInputStream(content), content.length, null);
        BlobStore.Blob again = b.put(new ByteArrayInputStream(content), content.length, null);
        BlobStore.Blob empty = a.put(new ByteArrayInputStream(new byte[0]), 10, null);

        assertThat(again).isEqualTo(first);
        assertThat(a.storedBytes()).isEqualTo(content.length);
        assertThat(read(b.open(found(b, empty.digest()).orElseThrow()))).isEmpty();
    }

    @Test
    void contentThatIsTooLargeMismatchedOrCutOffLeavesNothing() throws Exception {
        byte[] content = random(20 * CHUNK);

        assertThatThrownBy(() -> a.put(new ByteArrayInputStream(content), content.length - 1, null))
                .isInstanceOfSatisfying(
                        BlobRefused.class, e -> assertThat(e.reason()).isEqualTo(BlobRefused.Reason.TOO_LARGE));
        assertThatThrownBy(() -> a.put(new ByteArrayInputStream(content), content.length, digest(new byte[1])))
                .isInstanceOfSatisfying(
                        BlobRefused.class, e -> assertThat(e.reason()).isEqualTo(BlobRefused.Reason.DIGEST_MISMATCH));
        assertThatThrownBy(() -> a.put(cutOffAfter(content, 7 * CHUNK + 3), content.length, null))
                .isInstanceOfSatisfying(BlobRefused.class, e -> {
                    assertThat(e.reason()).isEqualTo(BlobRefused.Reason.INCOMPLETE);
                    assertThat(e.isRetriable()).isTrue();
                });

        assertThat(a.find(digest(content))).isEmpty();
        assertThat(a.storedBytes()).isZero();
        // The next upload, on the same producers, goes through.
        BlobStore.Blob blob = a.put(new ByteArrayInputStream(content), content.length, digest(content));
        assertThat(read(b.open(found(b, blob.digest()).orElseThrow()))).isEqualTo(content);
    }

    @Test
    void theQuotaCountsEveryBlobOnceAcrossInstances() throws Exception {
        try (BlobStore limited = started(config(dirA, 0, "blob.quota.bytes", Integer.toString(30 * CHUNK)))) {
            byte[] first = random(20 * CHUNK);
            a.put(new ByteArrayInputStream(first), first.length, null);
            await().atMost(Duration.ofSeconds(10)).until(() -> limited.storedBytes() == first.length);

            byte[] second = random(20 * CHUNK);
            assertThatThrownBy(() -> limited.put(new ByteArrayInputStream(second), second.length, null))
                    .isInstanceOfSatisfying(
                            BlobRefused.class, e -> assertThat(e.reason()).isEqualTo(BlobRefused.Reason.QUOTA));
            assertThat(limited.find(digest(second))).isEmpty();
        }
    }

    @Test
    void theLocalCacheKeepsWhatWasReadWholeUpToItsBoundLeastRecentlyUsedOut() throws Exception {
        byte[][] blobs = new byte[5][];
        for (int i = 0; i < blobs.length; i++) {
            blobs[i] = random(20 * CHUNK);
            a.put(new ByteArrayInputStream(blobs[i]), blobs[i].length, null);
        }
        for (byte[] content : blobs) {
            assertThat(read(b.open(found(b, digest(content)).orElseThrow()))).isEqualTo(content);
        }

        // 64 chunks of cache hold three blobs of 20: the last three read.
        assertThat(cached(dirB)).isEqualTo(3);
        assertThat(cachedBytes(dirB)).isLessThanOrEqualTo(64 * CHUNK);
        assertThat(Files.exists(cachePath(dirB, digest(blobs[4])))).isTrue();
        assertThat(Files.exists(cachePath(dirB, digest(blobs[0])))).isFalse();
        // A range of a cached blob is served from the cache, and right.
        assertThat(read(b.open(found(b, digest(blobs[4])).orElseThrow(), 3, 2 * CHUNK)))
                .isEqualTo(Arrays.copyOfRange(blobs[4], 3, 2 * CHUNK + 1));
        assertThat(cached(dirA)).as("no cache with blob.cache.bytes=0").isZero();
    }

    @Test
    void readsThatWaitedInVainForDigestsLeaveNothingBehind() throws Exception {
        List<CompletableFuture<Optional<BlobStore.Blob>>> reads = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            reads.add(a.whenFound(digest(random(16)), Duration.ofMillis(20 + i)));
        }

        for (CompletableFuture<Optional<BlobStore.Blob>> read : reads) {
            assertThat(read.get(10, TimeUnit.SECONDS)).isEmpty();
        }
        assertThat(a.waiting()).isZero();
        assertThat(a.waitedForDigests()).as("digests still held").isZero();
    }

    /** The blob, once {@code store}'s index names it (another store's write reaches it a moment later). */
    private static java.util.Optional<BlobStore.Blob> found(BlobStore store, String digest)
            throws InterruptedException {
        return store.find(digest, Duration.ofSeconds(5));
    }

    private final Random random = new Random(42);

    /** Bytes no other call gives. */
    private byte[] random(int size) {
        byte[] bytes = new byte[size];
        random.nextBytes(bytes);
        return bytes;
    }

    private static String digest(byte[] content) throws Exception {
        return "sha256:"
                + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
    }

    private static byte[] read(InputStream in) throws IOException {
        try (in) {
            return in.readAllBytes();
        }
    }

    /** The content's first {@code bytes}, then the connection breaks. */
    private static InputStream cutOffAfter(byte[] content, int bytes) {
        return new InputStream() {
            private int next;

            @Override
            public int read() throws IOException {
                if (next >= bytes) {
                    throw new IOException("connection reset");
                }
                return content[next++] & 0xff;
            }
        };
    }

    private static long cached(Path dir) throws IOException {
        Path blobs = dir.resolve("blobs").resolve("sha256");
        if (!Files.isDirectory(blobs)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(blobs)) {
            return files.filter(Files::isRegularFile).count();
        }
    }

    private static long cachedBytes(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir.resolve("blobs").resolve("sha256"))) {
            return files.filter(Files::isRegularFile)
                    .mapToLong(file -> file.toFile().length())
                    .sum();
        }
    }

    private static Path cachePath(Path dir, String digest) {
        String hex = digest.substring("sha256:".length());
        return dir.resolve("blobs")
                .resolve("sha256")
                .resolve(hex.substring(0, 2))
                .resolve(hex);
    }
}
