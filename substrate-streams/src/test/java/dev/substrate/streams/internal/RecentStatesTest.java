package dev.substrate.streams.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The states a processor wrote lately are read without decoding, within bounds, and never differ from the store. */
class RecentStatesTest {

    /** A value the store's serializer refuses, as a write that fails half way through a step. */
    private static final String UNWRITABLE = "unwritable";

    @TempDir
    Path stateDir;

    @Test
    void aStateWrittenLatelyIsReadAsWrittenAndOthersFromTheStore() {
        KeyValueStore<String, String> store = rocksDbStore();
        RecentStates<String> states = new RecentStates<>(store, String::length);
        String written = new String("version 1".getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);

        states.put("room-1", written);

        assertThat(states.get("room-1"))
                .as("the object written, not decoded again")
                .isSameAs(written);
        assertThat(store.get("room-1")).isEqualTo("version 1").isNotSameAs(written);
        store.put("room-2", "other");
        assertThat(states.get("room-2")).isEqualTo("other");
        assertThat(states.get("room-1")).isSameAs(written);

        states.delete("room-1");

        assertThat(states.get("room-1")).isNull();
        assertThat(store.get("room-1")).isNull();
        store.close();
    }

    @Test
    void aWriteTheStoreRefusesIsNotRemembered() {
        KeyValueStore<String, String> store = rocksDbStore();
        RecentStates<String> states = new RecentStates<>(store, String::length);
        states.put("run-1", "version 1");

        assertThatThrownBy(() -> states.put("run-1", UNWRITABLE)).isInstanceOf(IllegalArgumentException.class);

        assertThat(states.get("run-1")).as("read from the store again").isEqualTo("version 1");
        assertThatThrownBy(() -> states.put("run-2", UNWRITABLE)).isInstanceOf(IllegalArgumentException.class);
        assertThat(states.get("run-2")).isNull();
        store.close();
    }

    @Test
    void itRemembersAtMostItsBoundOfStatesTheLeastRecentlyUsedGoingFirst() {
        KeyValueStore<String, String> store = rocksDbStore();
        RecentStates<String> states = new RecentStates<>(store, String::length);
        String first = new String("room-0 state".getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
        states.put("room-0", first);
        String second = new String("room-1 state".getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
        states.put("room-1", second);
        assertThat(states.get("room-0")).isSameAs(first); // room-0 is now the more recently used

        for (int i = 2; i <= RecentStates.MAX_STATES; i++) {
            states.put("room-" + i, "room-" + i + " state");
        }

        assertThat(states.size()).isEqualTo(RecentStates.MAX_STATES);
        assertThat(states.get("room-0")).as("used lately, kept").isSameAs(first);
        assertThat(states.get("room-1"))
                .as("the least recently used, decoded from the store again")
                .isEqualTo("room-1 state")
                .isNotSameAs(second);
        store.close();
    }

    @Test
    void itKeepsWithinItsBytesAndNeverAStateLargerThanThem() {
        KeyValueStore<String, String> store = rocksDbStore();
        RecentStates<String> states = new RecentStates<>(store, String::length);
        int half = (int) (RecentStates.MAX_BYTES / 2);
        String a = "a".repeat(half);
        String b = "b".repeat(half);
        states.put("run-a", a);
        states.put("run-b", b);
        assertThat(states.get("run-a")).isSameAs(a);

        String c = "c".repeat(10);
        states.put("run-c", c);
        assertThat(states.size()).as("run-b, least recently used, made room").isEqualTo(2);
        assertThat(states.get("run-b")).isEqualTo(b).isNotSameAs(b);

        String huge = "h".repeat((int) RecentStates.MAX_BYTES + 1);
        states.put("run-huge", huge);
        assertThat(states.get("run-huge"))
                .as("larger than the bound: read from the store")
                .isNotSameAs(huge);
        assertThat(states.get("run-c")).isSameAs(c);
        store.close();
    }

    /** A RocksDB store whose serializer refuses {@link #UNWRITABLE}. */
    private KeyValueStore<String, String> rocksDbStore() {
        Properties properties = new Properties();
        properties.put(StreamsConfig.APPLICATION_ID_CONFIG, "last-written-state-test");
        properties.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        MockProcessorContext<String, String> context =
                new MockProcessorContext<>(properties, new TaskId(0, 0), stateDir.toFile());
        Serde<String> values = Serdes.serdeFrom(
                (topic, value) -> {
                    if (UNWRITABLE.equals(value)) {
                        throw new IllegalArgumentException("refused");
                    }
                    return value == null ? null : value.getBytes(StandardCharsets.UTF_8);
                },
                (topic, bytes) -> bytes == null ? null : new String(bytes, StandardCharsets.UTF_8));
        KeyValueStore<String, String> store = Stores.keyValueStoreBuilder(
                        Stores.persistentKeyValueStore(StoreNames.RUNS), Serdes.String(), values)
                .withLoggingDisabled()
                .withCachingDisabled()
                .build();
        store.init(context.getStateStoreContext(), store);
        return store;
    }
}
