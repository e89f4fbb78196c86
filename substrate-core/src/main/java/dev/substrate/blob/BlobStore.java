package dev.substrate.blob;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.blob.internal.BlobCache;
import dev.substrate.blob.internal.ChunkStream;
import dev.substrate.config.BlobSettings;
import dev.substrate.config.KafkaSettings;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.topic.TopicFollower;
import dev.substrate.topic.Topics;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Artifact content, content-addressed and kept in Kafka, so that every instance serves every blob and instances
 * share nothing but the brokers. An upload is streamed into chunks of at most {@link Topics#BLOB_CHUNK_BYTES} on
 * {@link Topics#blobs()}, all in one partition, in one Kafka transaction that ends with the blob's index record on
 * {@link Topics#blobIndex()} (digest, size, where its chunks are): the digest is checked before that record is
 * written, and an upload that is cut off, too large, does not match its digest or whose writer dies leaves nothing
 * any reader sees (its transaction is aborted). Every instance follows the index; a read seeks to the chunks it
 * needs, so a whole blob or a byte range streams with bounded memory. A bounded least-recently-used copy on local
 * disk ({@code blob.dir}, {@code blob.cache.bytes}) saves reading a blob from the brokers again.
 */
public final class BlobStore implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(BlobStore.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The digest form: {@code sha256:} and 64 lower-case hex digits. */
    private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");

    /** How an artifact's locator names a stored blob: {@code blob:sha256:<hex>}. */
    public static final String LOCATOR_PREFIX = "blob:";

    /** The longest one upload's transaction may stay open: the most time a writer has to send its content. */
    static final Duration UPLOAD_TIMEOUT = Duration.ofMinutes(10);

    private static final Duration KAFKA_WAIT = Duration.ofSeconds(30);

    private final SubstrateConfig config;
    private final String chunkTopic;
    private final String indexTopic;
    private final int chunkBytes;
    private final long quotaBytes;
    private final BlobCache cache;
    private final TopicFollower index;
    private final Map<String, Location> locations = new ConcurrentHashMap<>();
    /** Reads waiting for the index to name a digest, completed by {@link #apply} or at their deadline. */
    private final Map<String, List<CompletableFuture<Optional<Blob>>>> waiting = new ConcurrentHashMap<>();

    private final AtomicInteger waitCount = new AtomicInteger();
    private final ScheduledExecutorService deadlines = Executors.newSingleThreadScheduledExecutor(task -> {
        Thread thread = new Thread(task, "substrate-blob-waits");
        thread.setDaemon(true);
        return thread;
    });
    private final AtomicLong storedBytes = new AtomicLong();
    private final ArrayBlockingQueue<Uploader> uploaders;
    private final Semaphore reads;
    private final String processId = UUID.randomUUID().toString().substring(0, 8);

    /**
     * Where one blob's chunks are.
     *
     * @param size the blob's length in bytes
     * @param partition the partition of {@link Topics#blobs()} holding every chunk
     * @param uploadId the upload that wrote them (their keys are {@code <uploadId>/<n>})
     * @param chunkBytes the length of every chunk but the last
     * @param offsets each chunk's offset, in order
     */
    public record Location(long size, int partition, String uploadId, int chunkBytes, long[] offsets) {}

    /**
     * One stored blob.
     *
     * @param digest {@code sha256:<hex>}
     * @param size its length in bytes
     */
    public record Blob(String digest, long size) {
        /** The artifact locator naming this blob: {@code blob:sha256:<hex>}. */
        public String locator() {
            return LOCATOR_PREFIX + digest;
        }
    }

    private BlobStore(SubstrateConfig config, Topics topics, int chunkBytes) {
        this.config = config;
        this.chunkTopic = topics.blobs().name();
        this.indexTopic = topics.blobIndex().name();
        this.chunkBytes = chunkBytes;
        this.quotaBytes = config.get(BlobSettings.QUOTA_BYTES);
        this.cache = new BlobCache(config.get(BlobSettings.DIR), config.get(BlobSettings.CACHE_BYTES));
        this.uploaders = new ArrayBlockingQueue<>(config.get(BlobSettings.UPLOADS_MAX));
        for (int slot = 0; slot < config.get(BlobSettings.UPLOADS_MAX); slot++) {
            uploaders.add(new Uploader(slot));
        }
        this.reads = new Semaphore(config.get(BlobSettings.READS_MAX));
        this.index = TopicFollower.start(config, indexTopic, "blob index", this::apply);
    }

    /** Starts following the blob index of {@code config}'s topics; reads and writes wait until it is read. */
    public static BlobStore start(SubstrateConfig config) {
        return new BlobStore(config, Topics.from(config), Topics.BLOB_CHUNK_BYTES);
    }

    /** {@link #start} with chunks of {@code chunkBytes}: small chunks make tests of many-chunk blobs cheap. */
    static BlobStore start(SubstrateConfig config, int chunkBytes) {
        return new BlobStore(config, Topics.from(config), chunkBytes);
    }

    /** Why blobs cannot be served yet (the index is being read, or cannot be), or empty once they can. */
    public Optional<String> notReady() {
        return index.notReady().map(reason -> "blobs: " + reason);
    }

    /** Waits until the index is read; false if it is not by then. */
    public boolean awaitReady(Duration timeout) throws InterruptedException {
        return index.awaitCaughtUp(timeout);
    }

    /** The bytes of every blob the index names: what {@code blob.quota.bytes} bounds. */
    public long storedBytes() {
        return storedBytes.get();
    }

    /** Refuses (as {@link BlobRefused.Reason#QUOTA}) content of {@code bytes} that would pass the quota. */
    public void requireRoomFor(long bytes) {
        if (quotaBytes > 0 && storedBytes() + bytes > quotaBytes) {
            throw new BlobRefused(
                    "the substrate holds " + storedBytes() + " bytes of artifact content of its quota of " + quotaBytes
                            + " (blob.quota.bytes); " + bytes + " more do not fit",
                    BlobRefused.Reason.QUOTA);
        }
    }

    /**
     * Stores the bytes of {@code content}, reading it to its end, and returns once every instance can find it.
     *
     * @param maxBytes the most bytes accepted
     * @param expectedDigest the digest the writer says the content has ({@code sha256:<hex>}), or null
     * @throws BlobRefused when the content is longer than {@code maxBytes}, does not match {@code expectedDigest},
     *     ends early, would pass the quota, when every upload slot is taken, or Kafka does not take it; nothing is
     *     kept
     */
    public Blob put(InputStream content, long maxBytes, String expectedDigest) {
        if (expectedDigest != null && !isDigest(expectedDigest)) {
            throw new BlobRefused(
                    "the digest must be sha256: and 64 lower-case hex digits", BlobRefused.Reason.DIGEST_MISMATCH);
        }
        requireIndex();
        Uploader uploader = uploaders.poll();
        if (uploader == null) {
            throw new BlobRefused(
                    "this instance takes " + config.get(BlobSettings.UPLOADS_MAX)
                            + " uploads at once (blob.uploads.max) and " + "has that many under way; try again shortly",
                    BlobRefused.Reason.BUSY);
        }
        try {
            return uploader.upload(content, maxBytes, expectedDigest);
        } finally {
            uploaders.add(uploader);
        }
    }

    /** The blob with {@code digest}, if the substrate holds it. */
    public Optional<Blob> find(String digest) {
        if (!isDigest(digest)) {
            return Optional.empty();
        }
        requireIndex();
        Location location = locations.get(digest);
        return location == null ? Optional.empty() : Optional.of(new Blob(digest, location.size()));
    }

    /**
     * The blob with {@code digest}, waiting up to {@code timeout} for the index to name it: an artifact names its
     * blob only after the blob's index record was committed, but this instance may read the artifact's state
     * before its index has read that record.
     */
    public Optional<Blob> find(String digest, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Optional<Blob> found = find(digest);
        while (found.isEmpty() && System.nanoTime() < deadline) {
            synchronized (locations) {
                locations.wait(Math.max(1, Math.min(50, (deadline - System.nanoTime()) / 1_000_000)));
            }
            found = find(digest);
        }
        return found;
    }

    /** The most reads that may wait at once on one instance for the index to name their blob. */
    public static final int MAX_WAITING = 10_000;

    /**
     * The blob with {@code digest}, once the index names it or, if it does not within {@code timeout}, empty: as
     * {@link #find(String, Duration)}, without a thread held meanwhile (a read's request thread is free to answer
     * others while it waits).
     *
     * @throws BlobRefused as {@link BlobRefused.Reason#BUSY} when {@value #MAX_WAITING} reads wait already
     */
    public CompletableFuture<Optional<Blob>> whenFound(String digest, Duration timeout) {
        Optional<Blob> found = find(digest);
        if (found.isPresent() || timeout.isZero() || !isDigest(digest)) {
            return CompletableFuture.completedFuture(found);
        }
        if (waitCount.incrementAndGet() > MAX_WAITING) {
            waitCount.decrementAndGet();
            throw new BlobRefused(
                    MAX_WAITING + " reads wait for blobs on this instance already; try again shortly",
                    BlobRefused.Reason.BUSY);
        }
        CompletableFuture<Optional<Blob>> answer = new CompletableFuture<>();
        answer.whenComplete((blob, failure) -> waitCount.decrementAndGet());
        // Registered and removed under the digest's entry, so that a digest nobody waits for any more leaves no
        // empty list behind: waits for digests that are never found do not add up.
        waiting.compute(digest, (key, list) -> {
            List<CompletableFuture<Optional<Blob>>> waiters = list == null ? new CopyOnWriteArrayList<>() : list;
            waiters.add(answer);
            return waiters;
        });
        // Named between the first look and the registration: apply() may have run before the future was added.
        find(digest).ifPresent(blob -> complete(digest, blob));
        ScheduledFuture<?> deadline = deadlines.schedule(
                () -> {
                    waiting.computeIfPresent(digest, (key, list) -> {
                        list.remove(answer);
                        return list.isEmpty() ? null : list;
                    });
                    answer.complete(Optional.empty());
                },
                timeout.toMillis(),
                TimeUnit.MILLISECONDS);
        answer.whenComplete((blob, failure) -> deadline.cancel(false));
        return answer;
    }

    /** Reads waiting on this instance for the index to name their blob. */
    public int waiting() {
        return waitCount.get();
    }

    /** How many digests reads wait for now. */
    int waitedForDigests() {
        return waiting.size();
    }

    private void complete(String digest, Blob blob) {
        List<CompletableFuture<Optional<Blob>>> list = waiting.remove(digest);
        if (list != null) {
            list.forEach(waiter -> waiter.complete(Optional.of(blob)));
        }
    }

    /** Opens a whole stored blob for reading. */
    public InputStream open(Blob blob) {
        return open(blob, 0, blob.size() - 1);
    }

    /**
     * Opens the bytes {@code first} to {@code last} (inclusive) of a stored blob for reading: from this instance's
     * cache when it has a copy, else from Kafka (a whole blob read from Kafka is copied into the cache on the way).
     *
     * @throws BlobRefused as {@link BlobRefused.Reason#BUSY} when as many reads as {@code blob.reads.max} are
     *     under way
     */
    public InputStream open(Blob blob, long first, long last) {
        if (first < 0 || last < first - 1 || last >= blob.size()) {
            throw new IllegalArgumentException(
                    "bytes " + first + "-" + last + " are not within the blob's " + blob.size());
        }
        Optional<InputStream> cached = cache.open(blob.digest());
        if (cached.isPresent()) {
            return ChunkStream.slice(cached.get(), first, last - first + 1);
        }
        Location location = locations.get(blob.digest());
        if (location == null) {
            throw new IllegalArgumentException("no blob " + blob.digest());
        }
        if (!reads.tryAcquire()) {
            throw new BlobRefused(
                    "this instance serves " + config.get(BlobSettings.READS_MAX) + " blob reads from Kafka at once "
                            + "(blob.reads.max); try again shortly",
                    BlobRefused.Reason.BUSY);
        }
        boolean whole = first == 0 && last == blob.size() - 1;
        return new ChunkStream(
                config,
                chunkTopic,
                location,
                first,
                last - first + 1,
                whole ? cache.incoming(blob.size()).orElse(null) : null,
                blob.digest(),
                cache,
                reads::release);
    }

    /** The digest a {@code blob:} locator names, if it is one. */
    public static Optional<String> digestOf(String locator) {
        if (locator == null || !locator.startsWith(LOCATOR_PREFIX)) {
            return Optional.empty();
        }
        String digest = locator.substring(LOCATOR_PREFIX.length());
        return isDigest(digest) ? Optional.of(digest) : Optional.empty();
    }

    private static boolean isDigest(String digest) {
        return digest != null && DIGEST.matcher(digest).matches();
    }

    private void requireIndex() {
        notReady().ifPresent(reason -> {
            throw new BlobRefused(reason + "; try again shortly", BlobRefused.Reason.UNAVAILABLE);
        });
    }

    private void apply(ConsumerRecord<byte[], byte[]> record) {
        String digest = new String(record.key(), StandardCharsets.UTF_8);
        if (!isDigest(digest)) {
            throw new IllegalArgumentException("the key is not a digest: " + digest);
        }
        if (record.value() == null) {
            Location gone = locations.remove(digest);
            if (gone != null) {
                storedBytes.addAndGet(-gone.size());
            }
            return;
        }
        JsonNode node;
        try {
            node = JSON.readTree(record.value());
        } catch (IOException e) {
            throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
        }
        JsonNode offsets = node.path("offsets");
        long[] chunkOffsets = new long[offsets.size()];
        for (int i = 0; i < chunkOffsets.length; i++) {
            chunkOffsets[i] = offsets.get(i).asLong();
        }
        Location location = new Location(
                node.path("size").asLong(),
                node.path("partition").asInt(),
                node.path("uploadId").asText(),
                node.path("chunkBytes").asInt(),
                chunkOffsets);
        long expectedChunks =
                location.size() == 0 ? 0 : (location.size() + location.chunkBytes() - 1) / location.chunkBytes();
        if (location.chunkBytes() <= 0 || chunkOffsets.length != expectedChunks) {
            throw new IllegalArgumentException("the index record of " + digest + " does not add up");
        }
        Location old = locations.put(digest, location);
        storedBytes.addAndGet(location.size() - (old == null ? 0 : old.size()));
        synchronized (locations) {
            locations.notifyAll();
        }
        complete(digest, new Blob(digest, location.size()));
    }

    /** Stops following the index and closes the upload producers. */
    @Override
    public void close() {
        deadlines.shutdownNow();
        waiting.values().forEach(list -> list.forEach(waiter -> waiter.complete(Optional.empty())));
        index.close();
        for (Uploader uploader : uploaders) {
            uploader.close();
        }
    }

    /** One transactional producer and the upload it runs, one at a time. */
    private final class Uploader {

        private final int slot;
        private KafkaProducer<String, byte[]> producer;

        Uploader(int slot) {
            this.slot = slot;
        }

        Blob upload(InputStream content, long maxBytes, String expectedDigest) {
            String uploadId = UUID.randomUUID().toString();
            boolean open = false;
            try {
                KafkaProducer<String, byte[]> producer = producer();
                int partition = Utils.toPositive(Utils.murmur2(uploadId.getBytes(StandardCharsets.UTF_8)))
                        % producer.partitionsFor(chunkTopic).size();
                producer.beginTransaction();
                open = true;
                MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
                List<Future<RecordMetadata>> sent = new ArrayList<>();
                byte[] chunk = new byte[chunkBytes];
                long size = 0;
                while (true) {
                    int filled = fill(content, chunk, size);
                    if (filled == 0) {
                        break;
                    }
                    size += filled;
                    if (size > maxBytes) {
                        throw new BlobRefused(
                                "the content is larger than the limit of " + maxBytes + " bytes",
                                BlobRefused.Reason.TOO_LARGE);
                    }
                    sha256.update(chunk, 0, filled);
                    // The producer copies the value into its own buffer before send returns: chunk is reused.
                    byte[] value = filled == chunk.length ? chunk : Arrays.copyOf(chunk, filled);
                    sent.add(producer.send(
                            new ProducerRecord<>(chunkTopic, partition, uploadId + "/" + sent.size(), value)));
                    if (filled < chunk.length) {
                        break;
                    }
                }
                String digest = "sha256:" + HexFormat.of().formatHex(sha256.digest());
                if (expectedDigest != null && !expectedDigest.equals(digest)) {
                    throw new BlobRefused(
                            "the content's digest is " + digest + ", not the " + expectedDigest + " it was sent with",
                            BlobRefused.Reason.DIGEST_MISMATCH);
                }
                Location known = locations.get(digest);
                if (known != null) {
                    // Stored before: this upload's chunks are dropped with its transaction.
                    producer.abortTransaction();
                    open = false;
                    return new Blob(digest, known.size());
                }
                requireRoomFor(size);
                ObjectNode record = JSON.createObjectNode();
                record.put("v", 1);
                record.put("digest", digest);
                record.put("size", size);
                record.put("partition", partition);
                record.put("uploadId", uploadId);
                record.put("chunkBytes", chunkBytes);
                ArrayNode offsets = record.putArray("offsets");
                for (Future<RecordMetadata> chunkSent : sent) {
                    offsets.add(chunkSent
                            .get(KAFKA_WAIT.toMillis(), TimeUnit.MILLISECONDS)
                            .offset());
                }
                record.put("storedAt", Instant.now().toString());
                Future<RecordMetadata> indexed = producer.send(new ProducerRecord<>(
                        indexTopic, digest, record.toString().getBytes(StandardCharsets.UTF_8)));
                producer.commitTransaction();
                open = false;
                RecordMetadata written = indexed.get(KAFKA_WAIT.toMillis(), TimeUnit.MILLISECONDS);
                if (!index.awaitApplied(written.partition(), written.offset(), KAFKA_WAIT)) {
                    throw new BlobRefused(
                            "the content was stored but this instance did not read its index back in time; "
                                    + "sending it again is safe",
                            BlobRefused.Reason.UNAVAILABLE);
                }
                return new Blob(digest, size);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("every JDK has SHA-256", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new BlobRefused("interrupted while storing the content", BlobRefused.Reason.UNAVAILABLE);
            } catch (ExecutionException | TimeoutException | KafkaException e) {
                Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
                log.warn("Kafka did not take an upload of content: {}", cause.toString());
                discard();
                open = false;
                throw new BlobRefused(
                        "Kafka did not take the content (" + cause.getMessage() + "); nothing was kept: send it again",
                        BlobRefused.Reason.UNAVAILABLE);
            } finally {
                if (open) {
                    abort();
                }
            }
        }

        /** Reads until {@code chunk} is full or the content ends; the number of bytes read. */
        private int fill(InputStream content, byte[] chunk, long readBefore) {
            int filled = 0;
            try {
                while (filled < chunk.length) {
                    int read = content.read(chunk, filled, chunk.length - filled);
                    if (read < 0) {
                        break;
                    }
                    filled += read;
                }
                return filled;
            } catch (IOException e) {
                throw new BlobRefused(
                        "the upload ended after " + (readBefore + filled) + " bytes, before its end (" + e.getMessage()
                                + "); nothing was kept: send it again",
                        BlobRefused.Reason.INCOMPLETE);
            }
        }

        private void abort() {
            try {
                producer.abortTransaction();
            } catch (KafkaException e) {
                log.warn("Could not abort an upload's transaction ({}); its producer is replaced", e.toString());
                discard();
            }
        }

        private KafkaProducer<String, byte[]> producer() {
            if (producer == null) {
                Map<String, Object> props = new HashMap<>(config.kafkaProperties(ProducerConfig.configNames()));
                props.put(ProducerConfig.ACKS_CONFIG, "all");
                props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
                // Under the application id, as the fold's are: one prefixed ACL grants both.
                String application = config.get(KafkaSettings.APPLICATION_ID);
                props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, application + "-blobs-" + processId + "-" + slot);
                props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, (int) UPLOAD_TIMEOUT.toMillis());
                props.put(ProducerConfig.CLIENT_ID_CONFIG, "substrate-blobs-" + slot);
                props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.recordLimit(chunkBytes));
                // Four chunks in flight at most: an upload holds a bounded part of itself in memory.
                props.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 4L * Topics.recordLimit(chunkBytes));
                props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) KAFKA_WAIT.toMillis());
                props.put(ProducerConfig.LINGER_MS_CONFIG, 0);
                KafkaProducer<String, byte[]> created =
                        new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
                try {
                    created.initTransactions();
                } catch (KafkaException e) {
                    created.close(Duration.ZERO);
                    throw e;
                }
                producer = created;
            }
            return producer;
        }

        private void discard() {
            if (producer != null) {
                producer.close(Duration.ofSeconds(1));
                producer = null;
            }
        }

        void close() {
            if (producer != null) {
                producer.close(Duration.ofSeconds(5));
            }
        }
    }
}
