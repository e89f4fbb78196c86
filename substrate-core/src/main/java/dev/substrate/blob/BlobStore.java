package dev.substrate.blob;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A content-addressed store of bytes on local disk: each blob is kept once, under its SHA-256, at {@code
 * <dir>/sha256/<first two hex digits>/<hex>}. Writes stream through a temporary file (never whole in memory),
 * are hashed on the way, and become visible only when complete, by an atomic rename; a blob is never changed
 * after. Instances that serve one application share the directory.
 */
public final class BlobStore {

    /** The digest form: {@code sha256:} and 64 lower-case hex digits. */
    private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");

    private static final String LOCATOR_PREFIX = "blob:";

    /** A partial upload in {@code incoming/} older than this is one whose writer is gone: it is deleted. */
    static final Duration ABANDONED = Duration.ofHours(1);

    /** How long the bytes counted against the quota are trusted before the store is walked again. */
    private static final Duration RECOUNT = Duration.ofMinutes(1);

    private final Path dir;
    private final long quotaBytes;
    private long usedBytes = -1;
    private long countedAt;
    private long sweptAt;

    /** A store kept in {@code dir}, created when first written, with no quota. */
    public BlobStore(Path dir) {
        this(dir, 0);
    }

    /**
     * A store kept in {@code dir} that holds at most {@code quotaBytes} (0 for no quota). Partial uploads that
     * writers abandoned (a process killed mid-upload) are swept from {@code incoming/} now and every hour.
     */
    public BlobStore(Path dir, long quotaBytes) {
        this.dir = dir;
        this.quotaBytes = quotaBytes;
        sweepIncoming();
    }

    /**
     * Deletes the partial uploads in {@code incoming/} older than {@link #ABANDONED}; a younger one may be another
     * instance's upload under way (instances share the directory). Returns how many it deleted.
     */
    public synchronized int sweepIncoming() {
        sweptAt = System.nanoTime();
        Path incoming = dir.resolve("incoming");
        if (!Files.isDirectory(incoming)) {
            return 0;
        }
        int deleted = 0;
        Instant before = Instant.now().minus(ABANDONED);
        try (var parts = Files.list(incoming)) {
            for (Path part : (Iterable<Path>) parts::iterator) {
                try {
                    if (Files.getLastModifiedTime(part).toInstant().isBefore(before) && Files.deleteIfExists(part)) {
                        deleted++;
                    }
                } catch (IOException e) {
                    // Gone already, or not ours to delete: the next sweep tries again.
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot list " + incoming, e);
        }
        return deleted;
    }

    /** The bytes the store holds, as last counted (walked at most once a minute, since instances share it). */
    public synchronized long usedBytes() {
        if (usedBytes < 0 || System.nanoTime() - countedAt > RECOUNT.toNanos()) {
            Path blobs = dir.resolve("sha256");
            long used = 0;
            if (Files.isDirectory(blobs)) {
                try (var files = Files.walk(blobs)) {
                    used = files.filter(Files::isRegularFile)
                            .mapToLong(BlobStore::sizeOrZero)
                            .sum();
                } catch (IOException | UncheckedIOException e) {
                    throw new UncheckedIOException("Cannot count the blob store in " + dir, new IOException(e));
                }
            }
            usedBytes = used;
            countedAt = System.nanoTime();
        }
        return usedBytes;
    }

    private static long sizeOrZero(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }

    /** Refuses (as {@link BlobRefused.Reason#QUOTA}) content of {@code bytes} that would pass the quota. */
    public void requireRoomFor(long bytes) {
        if (quotaBytes > 0 && usedBytes() + bytes > quotaBytes) {
            throw new BlobRefused(
                    "the blob store holds " + usedBytes() + " bytes of its quota of " + quotaBytes
                            + " (blob.quota.bytes);" + " " + bytes + " more do not fit",
                    BlobRefused.Reason.QUOTA);
        }
    }

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

    /**
     * Stores the bytes of {@code content}, reading it to its end.
     *
     * @param maxBytes the most bytes accepted
     * @param expectedDigest the digest the writer says the content has ({@code sha256:<hex>}), or null
     * @throws BlobRefused when the content is longer than {@code maxBytes} or does not match {@code
     *     expectedDigest}; nothing is kept
     */
    public Blob put(InputStream content, long maxBytes, String expectedDigest) {
        if (expectedDigest != null && !isDigest(expectedDigest)) {
            throw new BlobRefused(
                    "the digest must be sha256: and 64 lower-case hex digits", BlobRefused.Reason.DIGEST_MISMATCH);
        }
        if (System.nanoTime() - sweptAt > ABANDONED.toNanos()) {
            sweepIncoming();
        }
        Path incoming = dir.resolve("incoming");
        Path temp = null;
        try {
            Files.createDirectories(incoming);
            temp = Files.createTempFile(incoming, "blob", ".part");
            MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
            long size = 0;
            byte[] buffer = new byte[64 * 1024];
            try (OutputStream out = Files.newOutputStream(temp)) {
                int read;
                while ((read = read(content, buffer, size)) != -1) {
                    size += read;
                    if (size > maxBytes) {
                        throw new BlobRefused(
                                "the content is larger than the limit of " + maxBytes + " bytes",
                                BlobRefused.Reason.TOO_LARGE);
                    }
                    sha256.update(buffer, 0, read);
                    out.write(buffer, 0, read);
                }
            }
            String digest = "sha256:" + HexFormat.of().formatHex(sha256.digest());
            if (expectedDigest != null && !expectedDigest.equals(digest)) {
                throw new BlobRefused(
                        "the content's digest is " + digest + ", not the " + expectedDigest + " it was sent with",
                        BlobRefused.Reason.DIGEST_MISMATCH);
            }
            Path target = path(digest);
            Files.createDirectories(target.getParent());
            if (!Files.exists(target)) {
                requireRoomFor(size);
                move(temp, target);
                synchronized (this) {
                    if (usedBytes >= 0) {
                        usedBytes += size;
                    }
                }
            }
            return new Blob(digest, size);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write to the blob store in " + dir, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        } finally {
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException e) {
                    // Left for the next clean-up of incoming/; it is never read.
                }
            }
        }
    }

    /** Reads from the writer's stream; a failure there is the writer's (an aborted upload), not the store's. */
    private static int read(InputStream content, byte[] buffer, long readSoFar) {
        try {
            return content.read(buffer);
        } catch (IOException e) {
            throw new BlobRefused(
                    "the upload ended after " + readSoFar + " bytes, before its end (" + e.getMessage()
                            + "); nothing was kept: send it again",
                    BlobRefused.Reason.INCOMPLETE);
        }
    }

    /** The blob with {@code digest}, if the store holds it. */
    public Optional<Blob> find(String digest) {
        if (!isDigest(digest)) {
            return Optional.empty();
        }
        Path path = path(digest);
        try {
            return Files.isRegularFile(path) ? Optional.of(new Blob(digest, Files.size(path))) : Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read the blob store in " + dir, e);
        }
    }

    /** Opens a stored blob for reading. */
    public InputStream open(Blob blob) {
        try {
            return Files.newInputStream(path(blob.digest()));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read blob " + blob.digest(), e);
        }
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
        return DIGEST.matcher(digest).matches();
    }

    private Path path(String digest) {
        String hex = digest.substring("sha256:".length());
        return dir.resolve("sha256").resolve(hex.substring(0, 2)).resolve(hex);
    }

    private static void move(Path temp, Path target) throws IOException {
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException e) {
            // Another writer stored the same bytes first.
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
