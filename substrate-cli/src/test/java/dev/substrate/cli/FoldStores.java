package dev.substrate.cli;

import dev.substrate.state.RunState;
import dev.substrate.streams.SubstrateFold;
import dev.substrate.streams.internal.StoreNames;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/** Reads a fold's stores directly: a fold started without an HTTP address cannot locate keys for its queries. */
final class FoldStores {

    private FoldStores() {}

    /** Every run in the fold's runs store, by id. */
    @SuppressWarnings("unchecked")
    static Map<String, RunState> runs(SubstrateFold fold) {
        ReadOnlyKeyValueStore<String, RunState> store =
                (ReadOnlyKeyValueStore<String, RunState>) (ReadOnlyKeyValueStore<?, ?>) fold.streams()
                        .store(StoreQueryParameters.fromNameAndType(
                                StoreNames.RUNS, QueryableStoreTypes.keyValueStore()));
        Map<String, RunState> runs = new TreeMap<>();
        try (var all = store.all()) {
            all.forEachRemaining(entry -> runs.put(entry.key, entry.value));
        }
        return runs;
    }
}
