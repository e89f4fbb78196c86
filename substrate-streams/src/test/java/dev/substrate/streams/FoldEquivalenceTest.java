package dev.substrate.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.substrate.event.EventValidator;
import dev.substrate.event.InvalidEvent;
import dev.substrate.events.artifact.ArtifactEvent;
import dev.substrate.events.room.EnvironmentStatus;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.RoomKind;
import dev.substrate.events.room.RoomRole;
import dev.substrate.events.room.StreamMode;
import dev.substrate.events.run.RunEvent;
import dev.substrate.fold.Decision;
import dev.substrate.fold.FoldLimits;
import dev.substrate.fold.InMemoryFold;
import dev.substrate.fold.Reason;
import dev.substrate.local.LocalRuns;
import dev.substrate.state.EventOutcome;
import dev.substrate.state.RunState;
import dev.substrate.state.TranscriptEntry;
import dev.substrate.streams.internal.StoreNames;
import dev.substrate.testing.SampleEvents;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The topology and the pure in-memory fold decide alike: thousands of random sequences of valid and invalid
 * events (wrong transitions, stale versions, repeated and reused event ids, strangers appending, closed rooms,
 * unknown blocks, bad fields) are folded by both, and every state, transcript entry and outcome is compared.
 */
class FoldEquivalenceTest {

    private static final int SEQUENCES = 2_000;
    private static final int EVENTS_PER_SEQUENCE = 12;

    /** Small limits, so that long blocks go to parts and some deltas pass the block limit. */
    private static final FoldLimits LIMITS = FoldLimits.of(64 * 1024, 1024, 6 * 1024);

    private final Random random = new Random(20261121);
    private final List<String> usedEventIds = new ArrayList<>();

    @Test
    void topologyAndPureFoldAgreeOnRandomSequences() {
        InMemoryFold reference = new InMemoryFold(new EventValidator(64 * 1024, Clock.systemUTC()), LIMITS);
        Map<String, Long> offsets = new HashMap<>();
        int events = 0;
        try (FoldFixture fold = new FoldFixture(LIMITS)) {
            for (int sequence = 0; sequence < SEQUENCES; sequence++) {
                String prefix = "s" + sequence + "-";
                for (int i = 0; i < EVENTS_PER_SEQUENCE; i++) {
                    Object event = randomEvent(prefix);
                    fold.given(event);
                    String topic = event.getClass().getSimpleName();
                    long offset = offsets.merge(topic, 1L, Long::sum) - 1;
                    if (event instanceof RunEvent run) {
                        reference.apply(run, 0, offset, fold.now());
                    } else if (event instanceof RoomEvent room) {
                        reference.apply(room, 0, offset, fold.now());
                    } else {
                        reference.apply((ArtifactEvent) event, 0, offset, fold.now());
                    }
                    events++;
                }
            }

            assertThat(fold.all(StoreNames.RUNS)).isEqualTo(new TreeMap<>(reference.runs()));
            assertThat(fold.all(StoreNames.ROOMS)).isEqualTo(new TreeMap<>(reference.rooms()));
            assertThat(fold.all(StoreNames.ARTIFACTS)).isEqualTo(new TreeMap<>(reference.artifacts()));
            Map<String, TranscriptEntry> transcripts = new TreeMap<>();
            reference
                    .rooms()
                    .keySet()
                    .forEach(roomId -> reference
                            .transcript(roomId)
                            .forEach(
                                    (offset, entry) -> transcripts.put(StoreNames.sequenceKey(roomId, offset), entry)));
            assertThat(fold.all(StoreNames.ROOM_TRANSCRIPT)).isEqualTo(transcripts);
            Map<String, String> parts = blockParts(reference);
            assertThat(fold.<String>all(StoreNames.ROOM_BLOCK_PARTS)).isEqualTo(parts);
            assertThat(outcomes(fold)).isEqualTo(new TreeMap<>(reference.outcomes()));

            long rejected = reference.outcomes().values().stream()
                    .filter(o -> o.getOutcome() == dev.substrate.state.Outcome.rejected)
                    .count();
            assertThat(rejected).as("the sequences exercise refusals").isBetween(events / 10L, events * 9L / 10);
            assertThat(reference.runs()).as("and applications").hasSizeGreaterThan(SEQUENCES / 4);
        }
    }

    @Test
    void topologyAndPureFoldAgreeOnLongBlocksStoredInParts() {
        InMemoryFold reference = new InMemoryFold(new EventValidator(64 * 1024, Clock.systemUTC()), LIMITS);
        long offset = 0;
        try (FoldFixture fold = new FoldFixture(LIMITS)) {
            for (int sequence = 0; sequence < 200; sequence++) {
                String roomId = "long-" + sequence;
                List<Object> payloads = new ArrayList<>();
                payloads.add(SampleEvents.roomCreated(
                        RoomKind.session, random.nextInt(3) == 0 ? StreamMode.lightweight : StreamMode.durable));
                for (int i = 0; i < 40; i++) {
                    String block = "b" + random.nextInt(2);
                    payloads.add(pick(List.<Supplier<Object>>of(
                                    () -> SampleEvents.blockStarted(block, null),
                                    () -> SampleEvents.delta(block, longText(random.nextInt(1500))),
                                    () -> SampleEvents.delta(block, longText(random.nextInt(1500))),
                                    () -> SampleEvents.delta(block, "z"),
                                    () -> SampleEvents.blockCompleted(block),
                                    () -> new dev.substrate.events.room.BlockCompleted(
                                            block, longText(random.nextInt(3000))),
                                    () -> SampleEvents.log("line")))
                            .get());
                }
                if (random.nextInt(10) == 0) {
                    payloads.add(SampleEvents.deleted());
                }
                for (Object payload : payloads) {
                    RoomEvent event = SampleEvents.room(roomId, payload);
                    fold.given(event);
                    reference.apply(event, 0, offset++, fold.now());
                }
            }
            Map<String, String> parts = blockParts(reference);
            assertThat(parts).as("long blocks are stored in parts").hasSizeGreaterThan(100);
            assertThat(fold.<String>all(StoreNames.ROOM_BLOCK_PARTS)).isEqualTo(parts);
            assertThat(fold.all(StoreNames.ROOMS)).isEqualTo(new TreeMap<>(reference.rooms()));
            assertThat(outcomes(fold)).isEqualTo(new TreeMap<>(reference.outcomes()));
            assertThat(reference.outcomes().values())
                    .as("some deltas pass the block limit")
                    .anySatisfy(o -> assertThat(o.getReason()).isEqualTo("block_too_large"));
        }
    }

    @Test
    void localRunsDecideRandomRunLogsAsTheFoldDoes(@TempDir Path dir) {
        InMemoryFold reference = new InMemoryFold(new EventValidator(1024 * 1024, Clock.systemUTC()));
        try (FoldFixture fold = new FoldFixture();
                LocalRuns local = LocalRuns.open(dir.resolve("local.db"), new FixtureClock(fold))) {
            long offset = 0;
            int decided = 0;
            for (int sequence = 0; sequence < 300; sequence++) {
                for (int i = 0; i < EVENTS_PER_SEQUENCE; i++) {
                    RunEvent event = validAtTheDoor(randomRunEvent("local" + sequence + "-r" + random.nextInt(2)));
                    if (random.nextInt(20) == 0) {
                        // Ten minutes ahead of the time it is recorded at (but not of the wall clock, since the
                        // fixture's time is in the past): both refuse it, judging it at the record's time.
                        event = RunEvent.newBuilder(event)
                                .setEventId("future-" + offset)
                                .setOccurredAt(fold.now().plus(Duration.ofMinutes(10)))
                                .build();
                    }
                    fold.given(event);
                    Decision<RunState> expected = reference.apply(event, 0, offset++, fold.now());
                    LocalRuns.Appended actual;
                    try {
                        actual = local.append(event);
                    } catch (InvalidEvent refused) {
                        assertThat(expected)
                                .isInstanceOfSatisfying(
                                        Decision.Rejected.class,
                                        rejected ->
                                                assertThat(rejected.reason()).isEqualTo(Reason.INVALID_EVENT));
                        decided++;
                        continue;
                    }
                    LocalRuns.Outcome outcome = expected instanceof Decision.Applied<RunState>
                            ? LocalRuns.Outcome.APPLIED
                            : expected instanceof Decision.Rejected<RunState>
                                    ? LocalRuns.Outcome.REJECTED
                                    : LocalRuns.Outcome.DUPLICATE;
                    assertThat(actual.outcome()).as("event %s", event).isEqualTo(outcome);
                    if (expected instanceof Decision.Rejected<RunState> rejected) {
                        assertThat(actual.reason()).isEqualTo(rejected.reason().code());
                    }
                    decided++;
                }
            }
            Map<String, RunState> locally = new TreeMap<>();
            local.runs().forEach(run -> locally.put(run.getRunId(), run));
            assertThat(locally).isEqualTo(new TreeMap<>(reference.runs()));
            assertThat(fold.all(StoreNames.RUNS)).isEqualTo(new TreeMap<>(reference.runs()));
            assertThat(decided).isEqualTo(300 * EVENTS_PER_SEQUENCE);
        }
    }

    /** {@code event}, or, if its actor breaks the door's rules, the same event by a valid actor. */
    private static RunEvent validAtTheDoor(RunEvent event) {
        return event.getActor() != null && event.getActor().contains("\u0001")
                ? RunEvent.newBuilder(event).setActor("svc:runner").build()
                : event;
    }

    /** The fold fixture's record time, as the clock local runs record appends at. */
    private static final class FixtureClock extends Clock {
        private final FoldFixture fold;

        FixtureClock(FoldFixture fold) {
            this.fold = fold;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return fold.now();
        }
    }

    /** The reference's block parts, keyed as the topology's store keys them. */
    private static Map<String, String> blockParts(InMemoryFold reference) {
        Map<String, String> parts = new TreeMap<>();
        reference
                .rooms()
                .keySet()
                .forEach(roomId -> reference
                        .blockParts(roomId)
                        .forEach((at, block) -> block.forEach(
                                (index, text) -> parts.put(StoreNames.partKey(roomId, at, index), text))));
        return parts;
    }

    private static Map<String, EventOutcome> outcomes(FoldFixture fold) {
        Map<String, EventOutcome> all = new TreeMap<>();
        Map<String, String> stores = Map.of(
                "run", StoreNames.RUN_EVENT_OUTCOMES,
                "room", StoreNames.ROOM_EVENT_OUTCOMES,
                "artifact", StoreNames.ARTIFACT_EVENT_OUTCOMES);
        stores.forEach((type, store) ->
                fold.<EventOutcome>all(store).forEach((eventId, outcome) -> all.put(type + "/0/" + eventId, outcome)));
        return all;
    }

    private Object randomEvent(String prefix) {
        int kind = random.nextInt(10);
        Object event;
        if (kind < 4) {
            event = randomRunEvent(prefix + "r" + random.nextInt(2));
        } else if (kind < 8) {
            event = randomRoomEvent(prefix + "m" + random.nextInt(2));
        } else {
            event = randomArtifactEvent(prefix + "a" + random.nextInt(2));
        }
        return event;
    }

    private RunEvent randomRunEvent(String runId) {
        List<Supplier<Object>> payloads = List.of(
                SampleEvents::created,
                SampleEvents::created,
                SampleEvents::started,
                SampleEvents::started,
                SampleEvents::waiting,
                SampleEvents::resumed,
                SampleEvents::succeeded,
                SampleEvents::failed,
                SampleEvents::cancelled,
                SampleEvents::timedOut,
                () -> SampleEvents.labelled(Map.of("k" + random.nextInt(3), "v" + random.nextInt(3)), "k1"));
        RunEvent event = SampleEvents.run(runId, pick(payloads).get());
        RunEvent.Builder builder = RunEvent.newBuilder(event).setEventId(eventId());
        if (random.nextInt(8) == 0) {
            builder.setExpectedVersion((long) random.nextInt(5));
        }
        if (random.nextInt(40) == 0) {
            builder.setActor("bad\u0001actor");
        }
        return builder.build();
    }

    private RoomEvent randomRoomEvent(String roomId) {
        String block = "b" + random.nextInt(2);
        String turn = "t" + random.nextInt(2);
        List<Supplier<Object>> payloads = List.of(
                () -> SampleEvents.roomCreated(
                        random.nextBoolean() ? RoomKind.session : RoomKind.conversation,
                        random.nextInt(3) == 0 ? StreamMode.lightweight : StreamMode.durable,
                        random.nextBoolean()
                                ? new dev.substrate.events.room.Member[] {SampleEvents.member("alice", RoomRole.owner)}
                                : new dev.substrate.events.room.Member[0]),
                () -> SampleEvents.turnStarted(turn),
                () -> SampleEvents.turnEnded(turn),
                () -> SampleEvents.blockStarted(block, null),
                () -> SampleEvents.delta(block, "x" + random.nextInt(100)),
                () -> SampleEvents.delta(block, "y"),
                () -> SampleEvents.delta(block, longText(700)),
                () -> new dev.substrate.events.room.BlockCompleted(block, longText(1500)),
                () -> SampleEvents.blockCompleted(block),
                () -> SampleEvents.log("line"),
                () -> SampleEvents.error("e1", "failure"),
                () -> SampleEvents.status(pick(List.of(EnvironmentStatus.values())), "m"),
                () -> SampleEvents.grant(pick(List.of("bob", "rita")), pick(List.of(RoomRole.values()))),
                () -> SampleEvents.revoke(pick(List.of("bob", "rita", "nobody"))),
                SampleEvents::closed,
                SampleEvents::deleted);
        String actor = pick(java.util.Arrays.asList(null, null, "alice", "bob", "rita", "mallory"));
        RoomEvent event = SampleEvents.room(roomId, pick(payloads).get(), actor);
        RoomEvent.Builder builder = RoomEvent.newBuilder(event).setEventId(eventId());
        if (random.nextInt(10) == 0) {
            builder.setExpectedVersion((long) random.nextInt(6));
        }
        return builder.build();
    }

    private ArtifactEvent randomArtifactEvent(String artifactId) {
        List<Supplier<Object>> payloads = List.of(
                SampleEvents::registered,
                SampleEvents::registered,
                () -> SampleEvents.revised("https://example.com/" + random.nextInt(9), "n"),
                SampleEvents::artifactDeleted);
        ArtifactEvent event = SampleEvents.artifact(artifactId, pick(payloads).get());
        ArtifactEvent.Builder builder = ArtifactEvent.newBuilder(event).setEventId(eventId());
        if (random.nextInt(8) == 0) {
            builder.setExpectedVersion((long) random.nextInt(4));
        }
        return builder.build();
    }

    /** A new event id, or one used before (a duplicate for the same entity, a reuse for another). */
    private String eventId() {
        if (!usedEventIds.isEmpty() && random.nextInt(15) == 0) {
            return usedEventIds.get(usedEventIds.size() - 1 - random.nextInt(Math.min(5, usedEventIds.size())));
        }
        String id = "e" + usedEventIds.size();
        usedEventIds.add(id);
        return id;
    }

    /** {@code length} characters of one-, two-, three- and four-byte UTF-8 (surrogate pairs count as two). */
    private String longText(int length) {
        StringBuilder text = new StringBuilder();
        String[] pieces = {"a", "é", "✓", "😀"};
        while (text.length() < length) {
            text.append(pieces[random.nextInt(pieces.length)]);
        }
        return text.toString();
    }

    private <T> T pick(List<T> options) {
        return options.get(random.nextInt(options.size()));
    }
}
