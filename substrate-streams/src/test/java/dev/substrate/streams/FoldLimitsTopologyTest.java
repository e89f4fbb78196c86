package dev.substrate.streams;

import static dev.substrate.testing.SampleEvents.artifact;
import static dev.substrate.testing.SampleEvents.blockCompleted;
import static dev.substrate.testing.SampleEvents.blockStarted;
import static dev.substrate.testing.SampleEvents.deleted;
import static dev.substrate.testing.SampleEvents.delta;
import static dev.substrate.testing.SampleEvents.grant;
import static dev.substrate.testing.SampleEvents.labelled;
import static dev.substrate.testing.SampleEvents.log;
import static dev.substrate.testing.SampleEvents.registered;
import static dev.substrate.testing.SampleEvents.revised;
import static dev.substrate.testing.SampleEvents.room;
import static dev.substrate.testing.SampleEvents.roomCreated;
import static dev.substrate.testing.SampleEvents.run;
import static dev.substrate.testing.SampleEvents.started;
import static dev.substrate.testing.SampleEvents.turnStarted;
import static org.assertj.core.api.Assertions.assertThat;

import dev.substrate.event.WireCodec;
import dev.substrate.events.room.BlockCompleted;
import dev.substrate.events.room.RoomKind;
import dev.substrate.events.room.RoomRole;
import dev.substrate.events.room.StreamMode;
import dev.substrate.fold.FoldLimits;
import dev.substrate.state.EventOutcome;
import dev.substrate.state.Outcome;
import dev.substrate.state.Rejection;
import dev.substrate.state.RoomState;
import dev.substrate.state.TranscriptEntry;
import dev.substrate.streams.internal.StoreNames;
import dev.substrate.testing.SampleEvents;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What events add up to stays within the fold's limits: long blocks in parts, oversized state refused. */
class FoldLimitsTopologyTest {

    /** Events of up to 64 KiB, so records of up to 96 KiB, and block text in parts of 1 KiB. */
    private static final FoldLimits SMALL = FoldLimits.of(64 * 1024, 1024);

    private final FoldFixture fold = new FoldFixture(SMALL);

    @AfterEach
    void close() {
        fold.close();
    }

    @Test
    void shouldStoreALongBlockInPartsThatJoinToItsTextByteForByte() {
        StringBuilder expected = new StringBuilder();
        fold.given(
                room("room-1", roomCreated(RoomKind.session, StreamMode.durable)),
                room("room-1", turnStarted("t1")),
                room("room-1", blockStarted("b1", "t1")));
        for (int i = 0; i < 300; i++) {
            // ASCII, two-, three- and four-byte characters, so that parts end between characters, never inside one.
            String text = i + ": héllo wörld ✓ 😀 ";
            expected.append(text);
            fold.given(room("room-1", delta("b1", text)));
        }
        RoomState open = fold.room("room-1");
        assertThat(open.getOpenBlocks()).singleElement().satisfies(block -> {
            assertThat(block.getParts()).isGreaterThan(5);
            assertThat(block.getText().getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(1024);
        });
        assertThat(WireCodec.ROOM_STATE.encode(open).length).isLessThan(4096);

        fold.given(room("room-1", blockCompleted("b1")));

        TranscriptEntry entry = fold.transcript("room-1").get(2L);
        TreeMap<String, String> parts = fold.blockParts("room-1");
        assertThat(entry.getParts()).isEqualTo(parts.size()).isGreaterThan(5);
        parts.values()
                .forEach(part -> assertThat(part.getBytes(StandardCharsets.UTF_8).length)
                        .isLessThanOrEqualTo(1024)
                        .isGreaterThan(1000));
        assertThat(String.join("", parts.values()) + entry.getText()).isEqualTo(expected.toString());
    }

    @Test
    void shouldReplaceThePartsWhenTheCompletionCarriesTheText() {
        fold.given(
                room("room-1", roomCreated(RoomKind.session, StreamMode.durable)),
                room("room-1", blockStarted("b1", null)));
        for (int i = 0; i < 10; i++) {
            fold.given(room("room-1", delta("b1", "x".repeat(500))));
        }
        assertThat(fold.blockParts("room-1")).hasSize(4);

        String finalText = "y".repeat(1500);
        fold.given(room("room-1", new BlockCompleted("b1", finalText)));

        TranscriptEntry entry = fold.transcript("room-1").get(1L);
        assertThat(fold.blockParts("room-1")).hasSize(1);
        assertThat(entry.getParts()).isEqualTo(1);
        assertThat(fold.blockParts("room-1").firstEntry().getValue() + entry.getText())
                .isEqualTo(finalText);
    }

    @Test
    void shouldRemoveAnEntrysPartsWithTheEntryAndTheRoomsPartsWithTheRoom() {
        fold.given(
                room("room-1", roomCreated(RoomKind.session, StreamMode.lightweight)),
                room("room-1", blockStarted("b1", null)),
                room("room-1", delta("b1", "z".repeat(3000))),
                room("room-1", blockCompleted("b1")));
        assertThat(fold.blockParts("room-1")).hasSize(2);

        // A lightweight room keeps its last 100 entries: the long block falls out, and its parts with it.
        for (int i = 0; i < 100; i++) {
            fold.given(room("room-1", log("line " + i)));
        }
        assertThat(fold.transcript("room-1")).hasSize(100);
        assertThat(fold.blockParts("room-1")).isEmpty();

        fold.given(
                room("room-1", blockStarted("b2", null)),
                room("room-1", delta("b2", "w".repeat(3000))),
                room("room-1", deleted()));
        assertThat(fold.room("room-1")).isNull();
        assertThat(fold.blockParts("room-1")).isEmpty();
    }

    @Test
    void shouldRefuseTextPastTheBlockLimitAndKeepTheBlockOpen() {
        try (FoldFixture capped = new FoldFixture(FoldLimits.of(64 * 1024, 1024, 4096))) {
            capped.given(
                    room("room-1", roomCreated(RoomKind.session, StreamMode.durable)),
                    room("room-1", blockStarted("b1", null)),
                    room("room-1", delta("b1", "a".repeat(4000))));
            var tooMuch = room("room-1", delta("b1", "b".repeat(97)));
            capped.given(tooMuch, room("room-1", delta("b1", "c".repeat(96))));

            assertThat(capped.rejections()).singleElement().satisfies(r -> {
                assertThat(r.getReason()).isEqualTo("block_too_large");
                assertThat(r.getEventId()).isEqualTo(tooMuch.getEventId());
            });
            capped.given(room("room-1", blockCompleted("b1")));
            TranscriptEntry entry = capped.transcript("room-1").get(1L);
            assertThat(String.join("", capped.blockParts("room-1").values()) + entry.getText())
                    .isEqualTo("a".repeat(4000) + "c".repeat(96));
        }
    }

    @Test
    void shouldRefuseALabelThatWouldGrowARunPastTheRecordLimitAndGoOn() {
        fold.given(run("run-1", SampleEvents.created()), run("run-1", started()));
        Map<String, String> firstLabels = labels("a", 60, 1000);
        fold.given(run("run-1", labelled(firstLabels)));
        assertThat(fold.run("run-1").getVersion()).isEqualTo(3);
        fold.rejections();

        var tooMany = run("run-1", labelled(labels("b", 60, 1000)));
        fold.given(tooMany);

        List<Rejection> rejections = fold.rejections();
        assertThat(rejections).singleElement().satisfies(r -> {
            assertThat(r.getReason()).isEqualTo("state_too_large");
            assertThat(r.getMessage()).contains("more than the " + SMALL.maxRecordBytes());
        });
        EventOutcome outcome = fold.outcome("run", tooMany.getEventId());
        assertThat(outcome.getOutcome()).isEqualTo(Outcome.rejected);
        assertThat(fold.run("run-1").getVersion()).isEqualTo(3);
        assertThat(fold.run("run-1").getLabels()).containsKey("a59").doesNotContainKey("b0");

        fold.given(run("run-1", SampleEvents.succeeded()));
        assertThat(fold.run("run-1").getVersion()).isEqualTo(4);
    }

    @Test
    void shouldRefuseMembersAndRevisionsPastTheRecordLimit() {
        fold.given(room(
                "room-1",
                roomCreated(
                        RoomKind.conversation,
                        StreamMode.durable,
                        SampleEvents.member("alice@example.com", RoomRole.owner))));
        int granted;
        for (int i = 0; i < 3000; i++) {
            fold.given(
                    room("room-1", grant("principal-with-a-long-name-" + "p".repeat(60) + "-" + i, RoomRole.reader)));
        }
        granted = fold.room("room-1").getMembers().size() - 1;
        assertThat(granted).isLessThan(3000).isGreaterThan(500);
        assertThat(fold.rejections())
                .hasSize(3000 - granted)
                .allSatisfy(r -> assertThat(r.getReason()).isEqualTo("state_too_large"));
        assertThat(WireCodec.ROOM_STATE.encode(fold.room("room-1")).length).isLessThanOrEqualTo(SMALL.maxRecordBytes());

        fold.given(artifact("art-1", registered()));
        for (int i = 0; i < 2000; i++) {
            fold.given(artifact("art-1", revised("blob:sha256:" + "0".repeat(60) + i, "n".repeat(500))));
        }
        long revisions = fold.artifact("art-1").getRevisions().size();
        assertThat(revisions).isLessThan(2001).isGreaterThan(50);
        assertThat(fold.rejections())
                .hasSize((int) (2001 - revisions))
                .allSatisfy(r -> assertThat(r.getReason()).isEqualTo("state_too_large"));
    }

    @Test
    void shouldRefuseAnEventIdTooLongToRecordWithoutKeepingAnOutcome() {
        var event = SampleEvents.withEventId(run("run-1", SampleEvents.created()), "e".repeat(5000));
        fold.given(event);

        assertThat(fold.rejections()).singleElement().satisfies(r -> {
            assertThat(r.getReason()).isEqualTo("invalid_event");
            assertThat(r.getEventId()).hasSizeLessThanOrEqualTo(FoldLimits.MAX_ID_CHARS);
        });
        assertThat(fold.<EventOutcome>all(StoreNames.RUN_EVENT_OUTCOMES)).isEmpty();
        assertThat(fold.run("run-1")).isNull();
    }

    private static Map<String, String> labels(String prefix, int count, int valueLength) {
        Map<String, String> labels = new HashMap<>();
        for (int i = 0; i < count; i++) {
            labels.put(prefix + i, "v".repeat(valueLength));
        }
        return labels;
    }
}
