package dev.substrate.streams.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An index store refilled in write batches: on RocksDB, as the fold's index stores are, past one batch's size. */
class IndexRebuildTest {

    @TempDir
    Path stateDir;

    @Test
    void fillsAndEmptiesAnIndexBeyondOneBatch() {
        KeyValueStore<String, String> index = rocksDbStore("runs-by-status");
        int entries = IndexRebuild.BATCH * 2 + 7;

        try (IndexRebuild rebuild = new IndexRebuild()) {
            for (int i = 0; i < entries; i++) {
                rebuild.put(index, key(i), "run-" + i);
            }
        }
        assertThat(keys(index)).hasSize(entries).startsWith(key(0)).endsWith(key(entries - 1));
        assertThat(index.get(key(42))).isEqualTo("run-42");

        IndexRebuild.clear(index);

        assertThat(keys(index)).isEmpty();
        index.close();
    }

    private KeyValueStore<String, String> rocksDbStore(String name) {
        Properties properties = new Properties();
        properties.put(StreamsConfig.APPLICATION_ID_CONFIG, "index-rebuild-test");
        properties.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        MockProcessorContext<String, String> context =
                new MockProcessorContext<>(properties, new TaskId(0, 0), stateDir.toFile());
        KeyValueStore<String, String> store = Stores.keyValueStoreBuilder(
                        Stores.persistentKeyValueStore(name), Serdes.String(), Serdes.String())
                .withLoggingDisabled()
                .withCachingDisabled()
                .build();
        store.init(context.getStateStoreContext(), store);
        return store;
    }

    /** An index key as the fold writes them: value, a NUL, then what orders the entries. */
    private static String key(int i) {
        return "running" + '\u0000' + String.format("%08d", i);
    }

    private static List<String> keys(KeyValueStore<String, String> store) {
        List<String> keys = new ArrayList<>();
        try (KeyValueIterator<String, String> all = store.all()) {
            all.forEachRemaining(entry -> keys.add(entry.key));
        }
        return keys;
    }
}
