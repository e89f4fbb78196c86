package dev.substrate.streams.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.query.KeyQuery;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An interactive query and a write of the same RocksDB store at the same moment both finish: the query takes the
 * store's lock before the position's, as a write does (with Kafka Streams 4.3's own order, this test never ends
 * its writer: the query holds the position and waits for the store, the writer holds the store and waits for the
 * position).
 */
class LockOrderedStoreTest {

    private static final Bytes KEY = Bytes.wrap("run-1".getBytes(StandardCharsets.UTF_8));

    @TempDir
    Path stateDir;

    @Test
    void aQueryWaitingForTheStoreHoldsNothingAWriteNeeds() throws Exception {
        KeyValueStore<Bytes, byte[]> rocksDb =
                LockOrderedStore.persistent(StoreNames.RUNS).get();
        LockOrderedStore store = (LockOrderedStore) rocksDb;
        store.init(context().getStateStoreContext(), store);
        store.put(KEY, "queued".getBytes(StandardCharsets.UTF_8));
        Object storeLock = store.wrapped();
        Object positionLock = store.wrapped().getPosition();

        AtomicReference<QueryResult<byte[]>> answer = new AtomicReference<>();
        Thread query = new Thread(
                () -> answer.set(store.query(
                        KeyQuery.<Bytes, byte[]>withKey(KEY), PositionBound.unbounded(), new QueryConfig(false))),
                "query");
        query.setDaemon(true);
        // A write as RocksDBStore#put makes it: the store's lock, then (while a query waits) the position's.
        Thread write = new Thread(
                () -> {
                    synchronized (storeLock) {
                        query.start();
                        awaitBlocked(query);
                        synchronized (positionLock) {
                            // the write's own work would be here
                        }
                    }
                },
                "write");
        write.setDaemon(true);

        write.start();
        write.join(TimeUnit.SECONDS.toMillis(20));
        query.join(TimeUnit.SECONDS.toMillis(20));

        assertThat(write.isAlive())
                .as("the write took the position while the query waited")
                .isFalse();
        assertThat(query.isAlive()).isFalse();
        assertThat(new String(answer.get().getResult(), StandardCharsets.UTF_8)).isEqualTo("queued");
        store.close();
    }

    private static void awaitBlocked(Thread thread) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (thread.getState() != Thread.State.BLOCKED && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
    }

    private MockProcessorContext<Object, Object> context() {
        Properties properties = new Properties();
        properties.put(StreamsConfig.APPLICATION_ID_CONFIG, "lock-ordered-store-test");
        properties.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        return new MockProcessorContext<>(properties, new TaskId(0, 0), stateDir.toFile());
    }
}
