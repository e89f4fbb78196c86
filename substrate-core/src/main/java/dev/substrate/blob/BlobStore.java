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

    private final Path dir;

    /** A store kept in {@code dir}, created when first written. */
    public BlobStore(Path dir) {
        this.dir = dir;
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
            throw new BlobRefused("the digest must be sha256: and 64 lower-case hex digits", false);
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
                while ((read = content.read(buffer)) != -1) {
                    size += read;
                    if (size > maxBytes) {
                        throw new BlobRefused("the content is larger than the limit of " + maxBytes + " bytes", true);
                    }
                    sha256.update(buffer, 0, read);
                    out.write(buffer, 0, read);
                }
            }
            String digest = "sha256:" + HexFormat.of().formatHex(sha256.digest());
            if (expectedDigest != null && !expectedDigest.equals(digest)) {
                throw new BlobRefused(
                        "the content's digest is " + digest + ", not the " + expectedDigest + " it was sent with",
                        false);
            }
            Path target = path(digest);
            Files.createDirectories(target.getParent());
            if (!Files.exists(target)) {
                move(temp, target);
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
