package dev.substrate.streams.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;

class UnfinishedStoresTest {

    static {
        RocksDB.loadLibrary();
    }

    @TempDir
    Path stateDir;

    @Test
    void aStoreWithoutCurrentIsRemovedSoThatRocksDbOpensItAgain() throws Exception {
        Path halfCreated = store("0_2", "artifact-event-outcomes");
        Path whole = store("0_1", "run-state");
        write(halfCreated, "k", "lost");
        write(whole, "k", "kept");
        Files.delete(halfCreated.resolve("CURRENT")); // as a kill between the first log and CURRENT leaves it

        // RocksDB refuses such a directory (and writes a CURRENT of its own as it does, so a copy is tried)
        Path copy = stateDir.resolve("copy");
        copy(halfCreated, copy);
        assertThatThrownBy(() -> read(copy, "k"))
                .isInstanceOf(RocksDBException.class)
                .hasMessageContaining("existing log file");

        assertThat(UnfinishedStores.sweep(stateDir)).containsExactly(halfCreated);

        assertThat(read(halfCreated, "k")).isNull();
        assertThat(read(whole, "k")).isEqualTo("kept");
        assertThat(UnfinishedStores.sweep(stateDir)).isEmpty();
    }

    @Test
    void emptyStoresAndAMissingStateDirectoryAreLeftAlone() throws Exception {
        Path empty = store("0_0", "room-state");
        Files.createDirectories(empty);

        assertThat(UnfinishedStores.sweep(stateDir)).isEmpty();
        assertThat(empty).isDirectory();
        assertThat(UnfinishedStores.sweep(stateDir.resolve("absent"))).isEmpty();
    }

    private static void copy(Path from, Path to) throws Exception {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path file : files.toList()) {
                Files.copy(file, to.resolve(file.getFileName()));
            }
        }
    }

    private Path store(String task, String name) {
        return stateDir.resolve("app").resolve(task).resolve("rocksdb").resolve(name);
    }

    private static void write(Path store, String key, String value) throws Exception {
        Files.createDirectories(store);
        try (Options options = new Options().setCreateIfMissing(true);
                RocksDB db = RocksDB.open(options, store.toString())) {
            db.put(key.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8));
        }
    }

    private static String read(Path store, String key) throws Exception {
        Files.createDirectories(store);
        try (Options options = new Options().setCreateIfMissing(true);
                RocksDB db = RocksDB.open(options, store.toString())) {
            byte[] value = db.get(key.getBytes(StandardCharsets.UTF_8));
            return value == null ? null : new String(value, StandardCharsets.UTF_8);
        }
    }
}
