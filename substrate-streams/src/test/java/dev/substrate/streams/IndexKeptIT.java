package dev.substrate.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.substrate.client.Appended;
import dev.substrate.client.SubstrateClient;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.entity.EntityKind;
import dev.substrate.events.run.RunEvent;
import dev.substrate.state.RunState;
import dev.substrate.state.RunStatus;
import dev.substrate.streams.internal.Index;
import dev.substrate.streams.internal.IndexView;
import dev.substrate.streams.internal.StoreNames;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SampleEvents;
import dev.substrate.testing.SharedKafka;
import dev.substrate.testing.TestSettings;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.FlushOptions;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;

/**
 * The index stores kept across a restart only while nothing else changed the state: an instance restarted on its
 * own state directory after another instance folded more of its partition restores that tail from the changelogs,
 * and its indexes must then answer for the restored state, not for the state it closed with.
 */
@ExtendWith(SharedKafka.class)
@Timeout(300)
class IndexKeptIT {

    @TempDir
    Path first;

    @TempDir
    Path second;

    @Test
    void anUnchangedStateKeepsTheIndexesAndARestoredTailRefillsThem(KafkaCluster kafka) throws Exception {
        String prefix = "kept" + UUID.randomUUID().toString().substring(0, 6) + ".";
        try (Admin admin = kafka.admin()) {
            TopicSetup.ensure(admin, new Topics(prefix, 1024 * 1024), 1, (short) -1);
        }
        SubstrateConfig firstConfig = config(kafka, prefix, first, prefix + "fold");
        SubstrateConfig secondConfig = config(kafka, prefix, second, prefix + "fold");

        append(firstConfig, SampleEvents.run("run-1", SampleEvents.created()));
        Appended started = append(firstConfig, SampleEvents.run("run-1", SampleEvents.started(), 1));
        try (SubstrateFold fold = SubstrateFold.start(firstConfig, new Instance("localhost", 1))) {
            StateQueries queries = await(fold, firstConfig, started);
            assertThat(runIds(queries, RunStatus.running)).containsExactly("run-1");
        }
        assertThat(markers(first)).as("a clean close leaves the marker").hasSize(1);

        // An entry no refill would write, put behind the fold's back: it shows whether a start kept the index.
        String planted = StoreNames.timeIndexKey("planted", 1, "run-planted");
        plant(
                first,
                StoreNames.RUN_INDEXES,
                StoreNames.index(StoreNames.RUNS_BY_STATUS).storeKey(planted));
        try (SubstrateFold fold = SubstrateFold.start(firstConfig, new Instance("localhost", 1))) {
            StateQueries queries = await(fold, firstConfig, started);
            assertThat(markers(first)).as("a start consumes the marker").isEmpty();
            assertThat(indexKeys(fold, StoreNames.RUNS_BY_STATUS))
                    .as("nothing changed the state since the clean close: the index is kept")
                    .contains(planted);
            assertThat(runIds(queries, RunStatus.running)).containsExactly("run-1");
        }

        // Another instance of the application folds more of the same partition.
        Appended succeeded = append(firstConfig, SampleEvents.run("run-1", SampleEvents.succeeded(), 2));
        try (SubstrateFold fold = SubstrateFold.start(secondConfig, new Instance("localhost", 2))) {
            StateQueries queries = await(fold, secondConfig, succeeded);
            assertThat(runIds(queries, RunStatus.succeeded)).containsExactly("run-1");
        }

        // The first instance, on its own directory again, restores that tail: its marker no longer matches.
        try (SubstrateFold fold = SubstrateFold.start(firstConfig, new Instance("localhost", 1))) {
            StateQueries queries = await(fold, firstConfig, succeeded);
            assertThat(indexKeys(fold, StoreNames.RUNS_BY_STATUS))
                    .as("the restored state changed since the close: the index is filled again")
                    .doesNotContain(planted);
            assertThat(runIds(queries, RunStatus.running))
                    .as("the index answers for the restored state")
                    .isEmpty();
            assertThat(runIds(queries, RunStatus.succeeded)).containsExactly("run-1");
        }
    }

    /** Writes store key {@code key} -> {@code run-planted} into store {@code store} of task 0_0, closed. */
    private static void plant(Path dataDir, String store, String key) throws Exception {
        Path db;
        try (Stream<Path> files = Files.walk(dataDir)) {
            db = files.filter(file -> file.getFileName().toString().equals(store))
                    .filter(file -> file.getParent()
                            .getParent()
                            .getFileName()
                            .toString()
                            .equals("0_0"))
                    .findFirst()
                    .orElseThrow();
        }
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        try (Options options = new Options();
                DBOptions dbOptions = new DBOptions()) {
            List<ColumnFamilyDescriptor> families = RocksDB.listColumnFamilies(options, db.toString()).stream()
                    .map(ColumnFamilyDescriptor::new)
                    .toList();
            try (RocksDB rocks = RocksDB.open(dbOptions, db.toString(), families, handles)) {
                ColumnFamilyHandle data = handles.get(families.stream()
                        .map(family -> new String(family.getName(), StandardCharsets.UTF_8))
                        .toList()
                        .indexOf("default"));
                rocks.put(data, key.getBytes(StandardCharsets.UTF_8), "run-planted".getBytes(StandardCharsets.UTF_8));
                try (FlushOptions flush = new FlushOptions().setWaitForFlush(true)) {
                    rocks.flush(flush, data);
                }
            } finally {
                handles.forEach(ColumnFamilyHandle::close);
            }
        }
    }

    /** Every key of a local index. */
    private static List<String> indexKeys(SubstrateFold fold, String name) {
        Index index = StoreNames.index(name);
        IndexView view = new IndexView(
                fold.streams()
                        .store(StoreQueryParameters.fromNameAndType(
                                index.store(), QueryableStoreTypes.<String, String>keyValueStore())),
                index);
        List<String> keys = new ArrayList<>();
        try (KeyValueIterator<String, String> all = view.all()) {
            all.forEachRemaining(entry -> keys.add(entry.key));
        }
        return keys;
    }

    private static Appended append(SubstrateConfig config, RunEvent event) {
        try (SubstrateClient client = SubstrateClient.create(config)) {
            return client.append(event).join();
        }
    }

    private static StateQueries await(SubstrateFold fold, SubstrateConfig config, Appended appended)
            throws InterruptedException {
        StateQueries queries = new StateQueries(fold.streams(), Topics.from(config));
        assertThat(queries.awaitPosition(
                        EntityKind.RUN,
                        appended.position().partition(),
                        appended.position().offset(),
                        Duration.ofSeconds(60)))
                .isEqualTo(StateQueries.PositionWait.REACHED);
        return queries;
    }

    private static List<String> runIds(StateQueries queries, RunStatus status) {
        return queries.runs(RunIndex.byStatus(Set.of(status)), run -> true, null, 100).items().stream()
                .map(RunState::getRunId)
                .toList();
    }

    /** The index markers under a data directory's state. */
    private static List<Path> markers(Path dataDir) throws Exception {
        try (Stream<Path> files = Files.walk(dataDir)) {
            return files.filter(file -> file.getFileName().toString().equals("substrate-indexes"))
                    .filter(file -> file.getParent().getFileName().toString().equals("0_0"))
                    .toList();
        }
    }

    private static SubstrateConfig config(KafkaCluster kafka, String prefix, Path dataDir, String applicationId) {
        return SubstrateConfig.of(TestSettings.of(kafka, prefix, dataDir, applicationId, "commit.interval.ms", "50"));
    }
}
