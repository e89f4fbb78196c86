package dev.substrate.blob.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * This instance's copy on local disk of blobs it served, at most {@code maxBytes} of them, the least recently used
 * going first: {@code <dir>/sha256/<first two hex digits>/<hex>}. Kafka holds every blob; the cache only saves
 * reading a blob from the brokers again. A file enters only once complete and checked against its digest (written
 * to {@code incoming/}, then renamed). What was left from an earlier process is counted at start, oldest first.
 */
public final class BlobCache {

    private final Path dir;
    private final long maxBytes;
    /** Digest to size, in access order: the first entry is the least recently used. */
    private final LinkedHashMap<String, Long> entries = new LinkedHashMap<>(16, 0.75f, true);

    private long usedBytes;

    /** A cache in {@code dir} of at most {@code maxBytes} (0: no cache, nothing is kept). */
    public BlobCache(Path dir, long maxBytes) {
        this.dir = dir;
        this.maxBytes = maxBytes;
        if (maxBytes > 0) {
            load();
        }
    }

    /** The bytes the cache holds now. */
    public synchronized long usedBytes() {
        return usedBytes;
    }

    /** Opens the cached copy of {@code digest}, marking it used, if there is one. */
    public Optional<InputStream> open(String digest) {
        synchronized (this) {
            if (entries.get(digest) == null) {
                return Optional.empty();
            }
        }
        try {
            return Optional.of(Files.newInputStream(path(digest)));
        } catch (NoSuchFileException e) {
            forget(digest);
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read the cached blob " + digest, e);
        }
    }

    /** A new file in {@code incoming/} to write a copy into, or empty when nothing is cached (no cache, too big). */
    public Optional<Path> incoming(long size) {
        if (maxBytes <= 0 || size > maxBytes) {
            return Optional.empty();
        }
        try {
            Path incoming = dir.resolve("incoming");
            Files.createDirectories(incoming);
            return Optional.of(Files.createTempFile(incoming, "blob", ".part"));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * Keeps the complete, checked copy {@code file} of {@code digest}, putting out the least recently used blobs
     * until it fits.
     */
    public void admit(String digest, Path file, long size) {
        Path target = path(digest);
        try {
            synchronized (this) {
                if (entries.containsKey(digest)) {
                    Files.deleteIfExists(file);
                    return;
                }
                while (usedBytes + size > maxBytes && !entries.isEmpty()) {
                    Map.Entry<String, Long> eldest =
                            entries.entrySet().iterator().next();
                    entries.remove(eldest.getKey());
                    usedBytes -= eldest.getValue();
                    Files.deleteIfExists(path(eldest.getKey()));
                }
                Files.createDirectories(target.getParent());
                move(file, target);
                entries.put(digest, size);
                usedBytes += size;
            }
        } catch (IOException e) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // Left in incoming/, which is emptied at the next start.
            }
        }
    }

    private synchronized void forget(String digest) {
        Long size = entries.remove(digest);
        if (size != null) {
            usedBytes -= size;
        }
    }

    private void load() {
        deleteIncoming();
        Path blobs = dir.resolve("sha256");
        if (!Files.isDirectory(blobs)) {
            return;
        }
        try (Stream<Path> files = Files.walk(blobs)) {
            files.filter(Files::isRegularFile)
                    .sorted((a, b) -> Long.compare(modified(a), modified(b)))
                    .forEach(file -> {
                        String hex = file.getFileName().toString();
                        if (hex.matches("[0-9a-f]{64}")) {
                            long size = size(file);
                            entries.put("sha256:" + hex, size);
                            usedBytes += size;
                        }
                    });
        } catch (IOException | UncheckedIOException e) {
            throw new UncheckedIOException("Cannot read the blob cache in " + dir, new IOException(e));
        }
        while (usedBytes > maxBytes && !entries.isEmpty()) {
            String eldest = entries.keySet().iterator().next();
            usedBytes -= entries.remove(eldest);
            try {
                Files.deleteIfExists(path(eldest));
            } catch (IOException e) {
                // Counted out of the cache already; the file is never served.
            }
        }
    }

    /** Partial copies a process left when it stopped: never served, deleted at start. */
    private void deleteIncoming() {
        Path incoming = dir.resolve("incoming");
        if (!Files.isDirectory(incoming)) {
            return;
        }
        try (Stream<Path> parts = Files.list(incoming)) {
            parts.forEach(part -> {
                try {
                    Files.deleteIfExists(part);
                } catch (IOException e) {
                    // Not ours to delete; never read either.
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot list " + incoming, e);
        }
    }

    /** Writes to {@code file}, for {@link #admit}. */
    public static OutputStream write(Path file) {
        try {
            return Files.newOutputStream(file);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write " + file, e);
        }
    }

    private static long modified(Path file) {
        try {
            return Files.getLastModifiedTime(file).toMillis();
        } catch (IOException e) {
            return 0;
        }
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }

    private Path path(String digest) {
        String hex = digest.substring("sha256:".length());
        return dir.resolve("sha256").resolve(hex.substring(0, 2)).resolve(hex);
    }

    private static void move(Path temp, Path target) throws IOException {
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException e) {
            Files.deleteIfExists(temp);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
