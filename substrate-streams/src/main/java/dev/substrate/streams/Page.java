package dev.substrate.streams;

import java.util.List;

/**
 * One page of a list query.
 *
 * @param items the entries, in the list's order
 * @param nextCursor where the next page starts (the store key of the last entry); null on the last page
 */
public record Page<T>(List<T> items, String nextCursor) {
    public Page {
        items = List.copyOf(items);
    }
}
