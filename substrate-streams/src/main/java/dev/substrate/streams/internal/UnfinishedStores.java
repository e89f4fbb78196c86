package dev.substrate.streams.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes the RocksDB stores a killed process left half created, before Kafka Streams opens them.
 *
 * <p>RocksDB writes a new database's {@code CURRENT} file last. A process killed between its first write-ahead log
 * and that file leaves a directory RocksDB will not open again ("While creating a new Db, wal_dir contains existing
 * log file"), and Kafka Streams opens the stores it finds in its state directory as it is constructed, so the next
 * start fails before any handler can help. Such a directory holds no database (without {@code CURRENT} RocksDB
 * would have made a new, empty one), and its task had no checkpoint, so Kafka Streams restores it from its
 * changelog in any case: removing it loses nothing.
 */
public final class UnfinishedStores {

    private static final Logger log = LoggerFactory.getLogger(UnfinishedStores.class);

    /** Kafka Streams' layout: {@code state.dir/application/task/rocksdb/store}. */
    private static final int STORE_DEPTH = 4;

    private UnfinishedStores() {}

    /**
     * Removes every RocksDB store directory under {@code stateDir} that has content but no {@code CURRENT} file.
     *
     * @return the directories removed
     */
    public static List<Path> sweep(Path stateDir) {
        if (!Files.isDirectory(stateDir)) {
            return List.of();
        }
        List<Path> removed = new ArrayList<>();
        try (Stream<Path> paths = Files.find(
                stateDir,
                STORE_DEPTH,
                (path, attributes) -> attributes.isDirectory()
                        && path.getParent() != null
                        && path.getParent().getFileName().toString().equals("rocksdb"))) {
            for (Path store : paths.toList()) {
                if (!Files.exists(store.resolve("CURRENT")) && !isEmpty(store)) {
                    log.warn(
                            "The RocksDB store at {} was left half created (no CURRENT file, as after a kill); "
                                    + "removing it, Kafka Streams restores it from its changelog",
                            store);
                    delete(store);
                    removed.add(store);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot look through the state directory " + stateDir, e);
        }
        return removed;
    }

    private static boolean isEmpty(Path directory) throws IOException {
        try (Stream<Path> entries = Files.list(directory)) {
            return entries.findAny().isEmpty();
        }
    }

    private static void delete(Path directory) throws IOException {
        try (Stream<Path> paths = Files.walk(directory)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
