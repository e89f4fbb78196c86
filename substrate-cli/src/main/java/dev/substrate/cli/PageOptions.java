package dev.substrate.cli;

import java.util.Map;
import picocli.CommandLine.Option;

/** The paging options every list command takes. */
final class PageOptions {

    @Option(names = "--limit", defaultValue = "100", description = "At most this many (default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--cursor", description = "Start where the previous page's nextCursor says.")
    String cursor;

    /** Adds {@code limit} and {@code cursor} to a query. */
    Map<String, Object> addTo(Map<String, Object> query) {
        query.put("limit", limit);
        query.put("cursor", cursor);
        return query;
    }
}
