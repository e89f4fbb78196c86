package dev.substrate.streams;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The one page merge: of one store's partitions and of the instances' answers alike. */
class PageTest {

    private static Page<String> part(int partition, List<String> keys, boolean more, String scannedTo) {
        return new Page<>(keys, keys, more, Set.of(partition), scannedTo, keys.size());
    }

    @Test
    void mergesInKeyOrderAndCutsAtTheLimit() {
        Page<String> merged = Page.merge(
                List.of(part(0, List.of("a", "d"), false, null), part(1, List.of("b", "c", "e"), false, null)),
                false,
                3);

        assertThat(merged.keys()).containsExactly("a", "b", "c");
        assertThat(merged.more()).isTrue();
        assertThat(merged.nextCursor()).isEqualTo("c");
        assertThat(merged.partitions()).containsExactlyInAnyOrder(0, 1);
        assertThat(merged.scanned()).isEqualTo(5);
    }

    @Test
    void newestFirstMergesDescending() {
        Page<String> merged = Page.merge(
                List.of(part(0, List.of("9", "5"), false, null), part(1, List.of("7", "3"), false, null)), true, 10);

        assertThat(merged.keys()).containsExactly("9", "7", "5", "3");
        assertThat(merged.more()).isFalse();
        assertThat(merged.nextCursor()).isNull();
    }

    @Test
    void aPartThatStoppedAtItsBudgetStopsThePageThere() {
        // Partition 1 looked as far as "c" and stopped: "d" of partition 0 is past it, and the next page (from "c")
        // would skip what partition 1 holds between "c" and "d" if this page went on to "d".
        Page<String> merged = Page.merge(
                List.of(part(0, List.of("a", "d"), false, null), part(1, List.of("b"), true, "c")), false, 10);

        assertThat(merged.keys()).containsExactly("a", "b");
        assertThat(merged.scannedTo()).isEqualTo("c");
        assertThat(merged.nextCursor()).isEqualTo("c");
    }

    @Test
    void aFullPageGoesOnFromItsLastKeyEvenWhenAPartStopped() {
        Page<String> merged = Page.merge(
                List.of(part(0, List.of("a", "b", "c"), true, null), part(1, List.of(), true, "z")), false, 2);

        assertThat(merged.keys()).containsExactly("a", "b");
        assertThat(merged.scannedTo()).isNull();
        assertThat(merged.nextCursor()).isEqualTo("b");
    }
}
