package dev.substrate.streams;

import dev.substrate.streams.internal.StoreNames;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.PriorityQueue;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * The entries of one partition's run index, newest first, keyed by their page key: the parts of every value the
 * index reads, merged; each part starting below {@code cursor}.
 */
final class RunIndexMerge implements KeyValueIterator<String, String> {
    private final List<KeyValueIterator<String, String>> parts = new ArrayList<>();
    private final List<Integer> prefixLengths = new ArrayList<>();
    private final PriorityQueue<Head> heads =
            new PriorityQueue<>(Comparator.comparing((Head head) -> head.key).reversed());

    private record Head(String key, String value, int part) {}

    RunIndexMerge(ReadOnlyKeyValueStore<String, String> store, RunIndex index, String cursor) {
        try {
            String upper = cursor == null
                    ? index.highest()
                    : index.highest() == null || cursor.compareTo(index.highest()) < 0 ? cursor : index.highest();
            if (index.values().isEmpty()) {
                // Keys are page keys, all of them starting with a digit.
                parts.add(store.reverseRange(index.lowest() == null ? "0" : index.lowest(), upper));
                prefixLengths.add(0);
            } else {
                for (String value : index.values()) {
                    String prefix = StoreNames.indexPrefix(value);
                    String from = index.lowest() == null ? prefix : prefix + index.lowest();
                    String to = upper == null ? value + (char) (StoreNames.SEPARATOR + 1) : prefix + upper;
                    parts.add(store.reverseRange(from, to));
                    prefixLengths.add(prefix.length());
                }
            }
            for (int i = 0; i < parts.size(); i++) {
                advance(i);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private void advance(int part) {
        KeyValueIterator<String, String> range = parts.get(part);
        while (range.hasNext()) {
            var entry = range.next();
            // A null value is an entry the fold removed and has not flushed yet (still in the record cache,
            // where a reverse range over the cached store can find it): its run moved to another key.
            if (entry.value != null) {
                heads.add(new Head(entry.key.substring(prefixLengths.get(part)), entry.value, part));
                return;
            }
        }
    }

    @Override
    public boolean hasNext() {
        return !heads.isEmpty();
    }

    @Override
    public KeyValue<String, String> next() {
        Head head = heads.poll();
        if (head == null) {
            throw new NoSuchElementException();
        }
        advance(head.part);
        return KeyValue.pair(head.key, head.value);
    }

    @Override
    public String peekNextKey() {
        Head head = heads.peek();
        if (head == null) {
            throw new NoSuchElementException();
        }
        return head.key;
    }

    @Override
    public void close() {
        parts.forEach(KeyValueIterator::close);
    }
}
