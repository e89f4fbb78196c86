package dev.substrate.streams.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.query.Position;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says whether a task's {@linkplain StoreNames#REBUILT index stores} still match its state stores, so that a
 * restart on the same state directory keeps them instead of filling them again (35 s at 1,000,000 runs).
 *
 * <p>A processor closing writes a file into its task's state directory naming the position of each store its
 * indexes are filled from (the input offsets behind the store's content, which Kafka Streams keeps with the store
 * and advances for every record restored from a changelog or loaded by a standby). The next start reads and deletes
 * that file before processing anything, and keeps the indexes only if every position is unchanged: nothing reached
 * those stores behind the processor. Everything else fills them again: no file (a first start, a crash), a changed
 * position (a restore or a standby caught up), a failed step in the last run (its index writes may be partial).
 *
 * <p>It relies on two things Kafka Streams guarantees under {@code exactly_once_v2} with positions written to the
 * changelogs (the fold's defaults): a task closed uncleanly has its whole state directory wiped (this file with
 * it), and restored records move the position. Under any other setting the file is never trusted.
 */
final class IndexMarker {

    private static final Logger log = LoggerFactory.getLogger(IndexMarker.class);

    /** The file's name in the task's state directory. */
    static final String FILE = "substrate-indexes";

    private final Path file;
    private final List<? extends StateStore> sources;
    private final List<Index> layout;
    private final boolean trusted;
    private boolean failed;

    /**
     * @param context the processor's context (its task's state directory and the application's settings)
     * @param sources the stores the indexes are filled from
     * @param layout the indexes in the index store: a file written for another layout is not trusted
     */
    IndexMarker(ProcessorContext<?, ?> context, List<? extends StateStore> sources, List<Index> layout) {
        this.file = context.stateDir().toPath().resolve(FILE);
        this.sources = sources;
        this.layout = List.copyOf(layout);
        Map<String, Object> configs = context.appConfigs();
        this.trusted = StreamsConfig.EXACTLY_ONCE_V2.equals(
                        String.valueOf(configs.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG)))
                && "true".equals(String.valueOf(configs.get(FoldTopology.CONSISTENCY_OFFSET_VECTOR)));
    }

    /**
     * Reads and removes the file: whether the index stores match the sources' current content. Called once, at
     * start, before any record.
     */
    boolean takeValid() {
        String written = null;
        try {
            if (Files.exists(file)) {
                written = Files.readString(file, StandardCharsets.UTF_8);
            }
            Files.deleteIfExists(file);
        } catch (IOException | RuntimeException e) {
            log.warn("Cannot read or remove {}; the index stores are filled again", file, e);
            return false;
        }
        return trusted && written != null && written.equals(positions());
    }

    /** Notes that a step failed: the index stores may not match the state, so no file is written at close. */
    void stepFailed() {
        failed = true;
    }

    /** Writes the file, at close, when the index stores match the sources. */
    void write() {
        if (!trusted || failed) {
            return;
        }
        try {
            Path temp = file.resolveSibling(FILE + ".tmp");
            Files.writeString(temp, positions(), StandardCharsets.UTF_8);
            Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            log.warn("Cannot write {}; the index stores are filled again at the next start", file, e);
        }
    }

    /**
     * The index layout ({@code index <name> <store> <tag>} lines), then each source's position, one line each:
     * {@code store topic partition offset}, in a fixed order.
     */
    private String positions() {
        StringBuilder text = new StringBuilder();
        layout.forEach(index -> text.append("index ")
                .append(index.name())
                .append(' ')
                .append(index.store())
                .append(' ')
                .append(index.tag())
                .append('\n'));
        for (StateStore store : sources) {
            Position position = store.getPosition();
            Map<String, Map<Integer, Long>> sorted = new TreeMap<>();
            position.getTopics()
                    .forEach(topic -> sorted.put(topic, new TreeMap<>(position.getPartitionPositions(topic))));
            sorted.forEach((topic, partitions) -> partitions.forEach((partition, offset) -> text.append(store.name())
                    .append(' ')
                    .append(topic)
                    .append(' ')
                    .append(partition)
                    .append(' ')
                    .append(offset)
                    .append('\n')));
            text.append(store.name()).append('\n');
        }
        return text.toString();
    }
}
