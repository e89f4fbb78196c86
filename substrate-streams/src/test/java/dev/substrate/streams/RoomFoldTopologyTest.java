package dev.substrate.streams;

import static dev.substrate.testing.SampleEvents.blockCompleted;
import static dev.substrate.testing.SampleEvents.blockStarted;
import static dev.substrate.testing.SampleEvents.closed;
import static dev.substrate.testing.SampleEvents.deleted;
import static dev.substrate.testing.SampleEvents.delta;
import static dev.substrate.testing.SampleEvents.error;
import static dev.substrate.testing.SampleEvents.grant;
import static dev.substrate.testing.SampleEvents.log;
import static dev.substrate.testing.SampleEvents.member;
import static dev.substrate.testing.SampleEvents.revoke;
import static dev.substrate.testing.SampleEvents.room;
import static dev.substrate.testing.SampleEvents.roomCreated;
import static dev.substrate.testing.SampleEvents.status;
import static dev.substrate.testing.SampleEvents.turnEnded;
import static dev.substrate.testing.SampleEvents.turnStarted;
import static org.assertj.core.api.Assertions.assertThat;

import dev.substrate.events.room.EnvironmentStatus;
import dev.substrate.events.room.RoomKind;
import dev.substrate.events.room.RoomRole;
import dev.substrate.events.room.StreamMode;
import dev.substrate.fold.RoomFold;
import dev.substrate.state.EntryKind;
import dev.substrate.state.Rejection;
import dev.substrate.state.RoomState;
import dev.substrate.state.TranscriptEntry;
import dev.substrate.streams.internal.StoreNames;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RoomFoldTopologyTest {

    private final FoldFixture fold = new FoldFixture();

    @AfterEach
    void close() {
        fold.close();
    }

    @Test
    void shouldAssembleDeltasIntoTheirBlockWhenItCompletes() {
        fold.given(
                room("room-1", roomCreated(RoomKind.conversation, StreamMode.durable)),
                room("room-1", turnStarted("t1")),
                room("room-1", blockStarted("b1", "t1")),
                room("room-1", delta("b1", "Hello, ")),
                room("room-1", delta("b1", "world")));
        assertThat(fold.transcript("room-1").values())
                .extracting(TranscriptEntry::getKind)
                .containsExactly(EntryKind.turn_started);
        assertThat(fold.room("room-1").getOpenBlocks())
                .singleElement()
                .satisfies(b -> assertThat(b.getText()).isEqualTo("Hello, world"));

        fold.given(room("room-1", blockCompleted("b1")), room("room-1", turnEnded("t1")));

        TreeMap<Long, TranscriptEntry> transcript = fold.transcript("room-1");
        assertThat(transcript.values())
                .extracting(TranscriptEntry::getKind)
                .containsExactly(EntryKind.turn_started, EntryKind.block, EntryKind.turn_ended);
        TranscriptEntry block = transcript.get(2L);
        assertThat(block.getText()).isEqualTo("Hello, world");
        assertThat(block.getTurnId()).isEqualTo("t1");
        RoomState room = fold.room("room-1");
        assertThat(room.getOpenBlocks()).isEmpty();
        assertThat(room.getActiveTurn()).isNull();
        assertThat(room.getCounters().getBlocks()).isEqualTo(1);
        assertThat(room.getCounters().getTurns()).isEqualTo(1);
        assertThat(room.getFirstOffset()).isZero();
        assertThat(room.getLastOffset()).isEqualTo(6);
    }

    @Test
    void shouldTrackTheActiveTurnAndRefuseOverlappingTurns() {
        fold.given(
                room("room-1", roomCreated(RoomKind.session, StreamMode.durable)), room("room-1", turnStarted("t1")));
        assertThat(fold.room("room-1").getActiveTurn().getTurnId()).isEqualTo("t1");

        fold.given(room("room-1", turnStarted("t2")), room("room-1", turnEnded("t2")));

        assertThat(fold.rejections())
                .extracting(Rejection::getReason)
                .containsExactly("turn_in_progress", "no_such_turn");
    }

    @Test
    void shouldKeepTheExecutionEnvironmentFromStatusAndErrors() {
        fold.given(
                room("room-1", roomCreated(RoomKind.session, StreamMode.durable)),
                room("room-1", status(EnvironmentStatus.starting, "booting")),
                room("room-1", status(EnvironmentStatus.ready, "up")),
                room("room-1", error("oom", "out of memory")),
                room("room-1", status(EnvironmentStatus.error, "crashed")),
                room("room-1", status(EnvironmentStatus.starting, "restarting")),
                room("room-1", log("retrying")));

        RoomState room = fold.room("room-1");
        assertThat(room.getEnvironment().getStatus()).isEqualTo(EnvironmentStatus.starting);
        assertThat(room.getEnvironment().getStatusMessage()).isEqualTo("restarting");
        assertThat(room.getEnvironment().getRestartCount()).isEqualTo(1);
        assertThat(room.getEnvironment().getLastError()).isEqualTo("crashed");
        assertThat(room.getEnvironment().getLastHealthCheck()).isNotNull();
        assertThat(room.getCounters().getErrors()).isEqualTo(1);
        assertThat(room.getCounters().getLogs()).isEqualTo(1);
        assertThat(fold.transcript("room-1").values())
                .extracting(TranscriptEntry::getKind)
                .containsExactly(
                        EntryKind.status,
                        EntryKind.status,
                        EntryKind.error,
                        EntryKind.status,
                        EntryKind.status,
                        EntryKind.log);
    }

    @Test
    void shouldRefuseAppendsToAClosedRoom() {
        fold.given(room("room-1", roomCreated(RoomKind.conversation, StreamMode.durable)), room("room-1", closed()));

        fold.given(room("room-1", log("late")), room("room-1", closed()));

        assertThat(fold.rejections()).extracting(Rejection::getReason).containsExactly("room_closed", "room_closed");
        assertThat(fold.room("room-1").getClosed()).isTrue();
        assertThat(fold.transcript("room-1")).isEmpty();
    }

    @Test
    void shouldLetOnlyWritersAndOwnersAppendWhenTheRoomHasMembers() {
        fold.given(room(
                "room-1",
                roomCreated(
                        RoomKind.conversation,
                        StreamMode.durable,
                        member("alice", RoomRole.owner),
                        member("rita", RoomRole.reader))));

        fold.given(
                room("room-1", log("by owner"), "alice"),
                room("room-1", log("by reader"), "rita"),
                room("room-1", log("by stranger"), "mallory"),
                room("room-1", grant("bob", RoomRole.writer), "rita"),
                room("room-1", grant("bob", RoomRole.writer), "alice"),
                room("room-1", log("by new writer"), "bob"));

        assertThat(fold.rejections())
                .extracting(Rejection::getReason)
                .containsExactly("not_permitted", "not_permitted", "not_permitted");
        assertThat(fold.transcript("room-1").values())
                .extracting(TranscriptEntry::getText)
                .containsExactly("by owner", "by new writer");
        assertThat(fold.room("room-1").getMembers()).containsEntry("bob", RoomRole.writer);
    }

    @Test
    void shouldAcceptUnnamedActorsAndRoomsWithoutMembers() {
        fold.given(
                room("room-1", roomCreated(RoomKind.conversation, StreamMode.durable)),
                room("room-1", log("anyone"), "mallory"));

        assertThat(fold.rejections()).isEmpty();
    }

    @Test
    void shouldRefuseRevokingANonMember() {
        fold.given(
                room("room-1", roomCreated(RoomKind.conversation, StreamMode.durable, member("alice", RoomRole.owner))),
                room("room-1", revoke("nobody"), "alice"),
                room("room-1", grant("bob", RoomRole.reader), "alice"),
                room("room-1", revoke("bob"), "alice"));

        assertThat(fold.rejections()).extracting(Rejection::getReason).containsExactly("not_a_member");
        assertThat(fold.room("room-1").getMembers()).containsOnlyKeys("alice");
    }

    @Test
    void shouldKeepOnlyTheLastHundredEntriesOfALightweightRoom() {
        fold.given(room("light", roomCreated(RoomKind.session, StreamMode.lightweight)));
        fold.given(room("heavy", roomCreated(RoomKind.session, StreamMode.durable)));
        List<Object> events = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            events.add(room("light", log("line " + i)));
            events.add(room("heavy", log("line " + i)));
        }
        fold.given(events.toArray());

        assertThat(fold.transcript("light")).hasSize(RoomFold.LIGHTWEIGHT_ENTRIES);
        assertThat(fold.transcript("light").firstEntry().getValue().getText()).isEqualTo("line 50");
        assertThat(fold.transcript("light").lastEntry().getValue().getText()).isEqualTo("line 149");
        assertThat(fold.room("light").getKeptEntries()).hasSize(RoomFold.LIGHTWEIGHT_ENTRIES);
        assertThat(fold.transcript("heavy")).hasSize(150);
        assertThat(fold.room("light").getCounters().getLogs()).isEqualTo(150);
    }

    @Test
    void shouldRemoveADeletedRoomAndItsTranscriptWithATombstone() {
        fold.given(
                room("room-1", roomCreated(RoomKind.conversation, StreamMode.durable)),
                room("room-1", log("a")),
                room("room-2", roomCreated(RoomKind.conversation, StreamMode.durable)),
                room("room-2", log("b")));
        fold.roomStates();

        fold.given(room("room-1", deleted()));

        assertThat(fold.room("room-1")).isNull();
        assertThat(fold.transcript("room-1")).isEmpty();
        assertThat(fold.transcript("room-2")).hasSize(1);
        assertThat(fold.roomStates()).singleElement().satisfies(kv -> {
            assertThat(kv.key).isEqualTo("room-1");
            assertThat(kv.value).isNull();
        });
        assertThat(fold.indexKeys(StoreNames.ROOMS_BY_KIND, "conversation"))
                .singleElement()
                .asString()
                .endsWith("room-2");
        fold.given(room("room-1", log("after delete")));
        assertThat(fold.rejections()).extracting(Rejection::getReason).containsExactly("not_found");
    }

    @Test
    void shouldRefuseDeltasForABlockThatIsNotOpen() {
        fold.given(
                room("room-1", roomCreated(RoomKind.conversation, StreamMode.durable)),
                room("room-1", delta("nope", "x")),
                room("room-1", blockStarted("b1", null)),
                room("room-1", blockStarted("b1", null)),
                room("room-1", blockCompleted("b1")),
                room("room-1", blockCompleted("b1")));

        assertThat(fold.rejections())
                .extracting(Rejection::getReason)
                .containsExactly("no_open_block", "block_exists", "no_open_block");
    }

    @Test
    void shouldIndexRoomsByKindRunAndParent() {
        fold.given(room("room-1", roomCreated(RoomKind.session, StreamMode.durable)));

        assertThat(fold.indexKeys(StoreNames.ROOMS_BY_KIND, "session")).hasSize(1);
        assertThat(fold.indexKeys(StoreNames.ROOMS_BY_RUN, "run-1")).hasSize(1);
        assertThat(fold.indexKeys(StoreNames.ROOMS_BY_PARENT, "none")).isEmpty();
    }

    @Test
    void shouldCleanUpClosedSessionsAfterTheRetentionButKeepConversations() {
        fold.given(
                room("session-1", roomCreated(RoomKind.session, StreamMode.durable)),
                room("session-1", log("work")),
                room("session-1", closed()),
                room("talk-1", roomCreated(RoomKind.conversation, StreamMode.durable)),
                room("talk-1", closed()),
                room("session-2", roomCreated(RoomKind.session, StreamMode.durable)));
        fold.roomStates();

        fold.advanceWallClock(FoldFixture.SESSION_RETENTION.plus(Duration.ofHours(3)));

        assertThat(fold.room("session-1")).isNull();
        assertThat(fold.transcript("session-1")).isEmpty();
        assertThat(fold.room("talk-1")).isNotNull();
        assertThat(fold.room("session-2")).isNotNull();
        assertThat(fold.roomStates()).singleElement().satisfies(kv -> {
            assertThat(kv.key).isEqualTo("session-1");
            assertThat(kv.value).isNull();
        });
        // The fold appended the expiry to the room's log and applied it when it read it back.
        assertThat(fold.<dev.substrate.state.EventOutcome>all(StoreNames.ROOM_EVENT_OUTCOMES)
                        .values())
                .filteredOn(outcome -> outcome.getEventId().startsWith("expiry-"))
                .singleElement()
                .satisfies(outcome -> {
                    assertThat(outcome.getEntityId()).isEqualTo("session-1");
                    assertThat(outcome.getOutcome()).isEqualTo(dev.substrate.state.Outcome.applied);
                });
    }
}
