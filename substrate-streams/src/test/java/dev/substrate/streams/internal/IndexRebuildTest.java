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

/**
 * An index store refilled in write batches, and read and written one index at a time: on RocksDB, as the fold's
 * index stores are, past one batch's size.
 */
class IndexRebuildTest {

    @TempDir
    Path stateDir;

    @Test
    void fillsAndEmptiesAnIndexBeyondOneBatch() {
        KeyValueStore<String, String> index = rocksDbStore(StoreNames.RUN_INDEXES);
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

    @Test
    void eachIndexOfAStoreReadsAndWritesItsOwnKeysAlone() {
        KeyValueStore<String, String> store = rocksDbStore(StoreNames.RUN_INDEXES);
        // Neighbouring tags in one store: status 's', project 'p', label 'l', created 'c'.
        WritableIndex byStatus = new WritableIndex(store, StoreNames.index(StoreNames.RUNS_BY_STATUS));
        WritableIndex byProject = new WritableIndex(store, StoreNames.index(StoreNames.RUNS_BY_PROJECT));
        WritableIndex byLabel = new WritableIndex(store, StoreNames.index(StoreNames.RUNS_BY_LABEL));
        try (IndexRebuild rebuild = new IndexRebuild()) {
            for (int i = 0; i < 5; i++) {
                rebuild.put(byStatus, key(i), "run-" + i);
                rebuild.put(byLabel, key(i), "run-" + i);
            }
        }
        byProject.put(StoreNames.indexKey("project:a", "run-1"), "run-1");
        byProject.put(StoreNames.indexKey("project:b", "run-2"), "run-2");

        assertThat(keys(byStatus.all())).containsExactly(key(0), key(1), key(2), key(3), key(4));
        assertThat(keys(byStatus.reverseAll())).containsExactly(key(4), key(3), key(2), key(1), key(0));
        assertThat(keys(byStatus.range(key(1), key(3)))).containsExactly(key(1), key(2), key(3));
        assertThat(keys(byStatus.reverseRange(key(3), null))).containsExactly(key(4), key(3));
        assertThat(keys(byProject.all()))
                .containsExactly(StoreNames.indexKey("project:a", "run-1"), StoreNames.indexKey("project:b", "run-2"));
        assertThat(keys(byProject.prefixScan(
                        StoreNames.indexPrefix("project:b"),
                        new org.apache.kafka.common.serialization.StringSerializer())))
                .containsExactly(StoreNames.indexKey("project:b", "run-2"));
        assertThat(byLabel.get(key(2))).isEqualTo("run-2");
        assertThat(byProject.get(key(2))).isNull();

        byStatus.delete(key(0));
        assertThat(keys(byStatus.all())).hasSize(4).doesNotContain(key(0));
        assertThat(keys(byLabel.all())).hasSize(5).contains(key(0));
        assertThat(keys(store.all()))
                .as("the store holds every index, each behind its tag")
                .hasSize(11);
        store.close();
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
        return keys(store.all());
    }

    private static List<String> keys(KeyValueIterator<String, String> range) {
        List<String> keys = new ArrayList<>();
        try (range) {
            range.forEachRemaining(entry -> keys.add(entry.key));
        }
        return keys;
    }
}
