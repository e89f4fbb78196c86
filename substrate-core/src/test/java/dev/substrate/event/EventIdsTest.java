package dev.substrate.event;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class EventIdsTest {

    @Test
    void idsAreVersion7UuidsCarryingTheirMillisecond() {
        Instant at = Instant.parse("2026-11-21T12:00:00.123Z");
        EventIds ids = new EventIds(Clock.fixed(at, ZoneOffset.UTC));

        UUID id = UUID.fromString(ids.nextId());

        assertThat(id.version()).isEqualTo(7);
        assertThat(id.variant()).isEqualTo(2);
        assertThat(id.getMostSignificantBits() >>> 16).isEqualTo(at.toEpochMilli());
    }

    @Test
    void idsFromOneGeneratorIncreaseEvenWithinOneMillisecond() {
        EventIds ids = new EventIds(Clock.fixed(Instant.parse("2026-11-21T12:00:00Z"), ZoneOffset.UTC));
        List<String> generated = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            generated.add(ids.nextId());
        }

        assertThat(generated).isSorted().doesNotHaveDuplicates();
    }

    @Test
    void idsAreValidEventIds() {
        EventValidator.id("eventId", EventIds.next());
    }
}
