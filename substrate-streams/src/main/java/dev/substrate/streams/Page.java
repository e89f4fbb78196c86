package dev.substrate.streams;

import java.util.List;
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
}
