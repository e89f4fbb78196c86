package dev.substrate.streams;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One page of a list query answered by one instance, from the partitions it holds.
 *
 * @param items the entries, in the list's order
 * @param keys each entry's store key, in the same order: what pages of several instances are merged by, and
 *     what a cursor names
 * @param more whether the partitions hold entries past the last one
 * @param partitions the partitions the page was read from
 * @param scannedTo when the scan stopped at its budget ({@code query.scan.budget}) before filling the page:
 *     the last key it looked at, where the next page goes on (every item is at or before it); else null
 * @param scanned how many store entries the page looked at: what it cost
 */
public record Page<T>(
        List<T> items, List<String> keys, boolean more, Set<Integer> partitions, String scannedTo, long scanned) {
    public Page {
        items = List.copyOf(items);
        keys = List.copyOf(keys);
        partitions = Set.copyOf(partitions);
        if (items.size() != keys.size()) {
            throw new IllegalArgumentException("one key per item");
        }
    }

    /**
     * Where the next page starts: the store key of the last entry, or where the scan stopped when it stopped at
     * its budget; null on the last page.
     */
    public String nextCursor() {
        if (scannedTo != null) {
            return scannedTo;
        }
        return more && !keys.isEmpty() ? keys.get(keys.size() - 1) : null;
    }

    /**
     * Merges pages read from disjoint partitions (one partition's scan, or one instance's answer) in key order and
     * cuts one page of {@code limit} from them: the one merge behind every list, in one store and across instances.
     * When a part stopped at its scan budget, the merged page goes no further than the first such stop (an entry of
     * another part past it would be skipped by the next page) and says so in its {@link #scannedTo}.
     *
     * @param descending whether the list is in descending key order (newest first)
     */
    public static <T> Page<T> merge(List<Page<T>> parts, boolean descending, int limit) {
        Comparator<String> order = descending ? Comparator.reverseOrder() : Comparator.naturalOrder();
        List<Map.Entry<String, T>> entries = new ArrayList<>();
        Set<Integer> partitions = new HashSet<>();
        boolean more = false;
        long scanned = 0;
        String stop = null;
        for (Page<T> part : parts) {
            for (int i = 0; i < part.items.size(); i++) {
                entries.add(Map.entry(part.keys.get(i), part.items.get(i)));
            }
            partitions.addAll(part.partitions);
            more |= part.more;
            scanned += part.scanned;
            if (part.scannedTo != null && (stop == null || order.compare(part.scannedTo, stop) < 0)) {
                stop = part.scannedTo;
            }
        }
        entries.sort(Map.Entry.comparingByKey(order));
        if (stop != null) {
            String last = stop;
            entries.removeIf(entry -> order.compare(entry.getKey(), last) > 0);
        }
        List<Map.Entry<String, T>> taken = entries.subList(0, Math.min(limit, entries.size()));
        boolean full = entries.size() > limit;
        return new Page<>(
                taken.stream().map(Map.Entry::getValue).toList(),
                taken.stream().map(Map.Entry::getKey).toList(),
                more || full,
                partitions,
                stop != null && !full ? stop : null,
                scanned);
    }
}
