package dev.substrate.fold;

import static dev.substrate.testing.SampleEvents.answer;
import static dev.substrate.testing.SampleEvents.artifact;
import static dev.substrate.testing.SampleEvents.blockStarted;
import static dev.substrate.testing.SampleEvents.cancelled;
import static dev.substrate.testing.SampleEvents.closed;
import static dev.substrate.testing.SampleEvents.created;
import static dev.substrate.testing.SampleEvents.delta;
import static dev.substrate.testing.SampleEvents.interrupt;
import static dev.substrate.testing.SampleEvents.labelled;
import static dev.substrate.testing.SampleEvents.log;
import static dev.substrate.testing.SampleEvents.member;
import static dev.substrate.testing.SampleEvents.registered;
import static dev.substrate.testing.SampleEvents.resumed;
import static dev.substrate.testing.SampleEvents.revoke;
import static dev.substrate.testing.SampleEvents.room;
import static dev.substrate.testing.SampleEvents.roomCreated;
import static dev.substrate.testing.SampleEvents.run;
import static dev.substrate.testing.SampleEvents.started;
import static dev.substrate.testing.SampleEvents.succeeded;
import static dev.substrate.testing.SampleEvents.turnEnded;
import static dev.substrate.testing.SampleEvents.turnStarted;
import static dev.substrate.testing.SampleEvents.waiting;
import static dev.substrate.testing.SampleEvents.withEventId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.substrate.event.EventValidator;
import dev.substrate.events.artifact.ArtifactEvent;
import dev.substrate.events.room.EnvironmentStatus;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.RoomKind;
import dev.substrate.events.room.RoomRole;
import dev.substrate.events.room.StreamMode;
import dev.substrate.events.run.AnswerStatus;
import dev.substrate.events.run.Interrupt;
import dev.substrate.events.run.RunEvent;
import dev.substrate.state.InterruptStatus;
import dev.substrate.state.RoomState;
import dev.substrate.state.RunInterrupt;
import dev.substrate.state.RunState;
import dev.substrate.state.RunStatus;
import dev.substrate.testing.SampleEvents;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The rules, without Kafka: given events, when one more, expect its decision. Each {@link Reason} a rule gives is
 * reached at least once, and the class checks it when it ends ({@link Reason#WRONG_PARTITION} is the Kafka Streams
 * driver's, decided from the record's partition before any rule runs, and is tested with it).
 */
class RulesTest {

    /** The reasons the tests of this class reached. */
    private static final Set<Reason> reached = EnumSet.noneOf(Reason.class);

    /** Given events applied in order, when one more: the fold's decision about it. */
    static final class Given {
        private final InMemoryFold fold;
        private long offset;

        Given(FoldLimits limits) {
            Clock clock = Clock.fixed(SampleEvents.AT.plusSeconds(60), ZoneOffset.UTC);
            this.fold = new InMemoryFold(new EventValidator(limits.maxEventBytes(), clock), limits);
        }

        static Given events(Object... events) {
            return new Given(FoldLimits.of(EventValidator.DEFAULT_MAX_EVENT_BYTES)).and(events);
        }

        Given and(Object... events) {
            for (Object event : events) {
                assertThat(apply(event)).as("given " + event).isInstanceOf(Decision.Applied.class);
            }
            return this;
        }

        Decision<?> apply(Object event) {
            Instant at = SampleEvents.AT;
            long at0 = offset++;
            if (event instanceof RunEvent run) {
                return fold.apply(run, 0, at0, at);
            }
            if (event instanceof RoomEvent room) {
                return fold.apply(room, 0, at0, at);
            }
            return fold.apply((ArtifactEvent) event, 0, at0, at);
        }

        /** Expects {@code event} to be refused for {@code reason}, and notes the reason as reached. */
        void whenRefused(Object event, Reason reason) {
            Decision<?> decision = apply(event);
            assertThat(decision)
                    .isInstanceOfSatisfying(
                            Decision.Rejected.class,
                            rejected -> assertThat(rejected.reason())
                                    .as(rejected.message())
                                    .isEqualTo(reason));
            reached.add(reason);
        }
    }

    private static RoomEvent ownRoom(String roomId) {
        return room(
                roomId, roomCreated(RoomKind.session, StreamMode.durable, member("alice@example.com", RoomRole.owner)));
    }

    @Test
    void anEventTheValidatorRefusesChangesNothing() {
        Given.events().whenRefused(run("run-1", started(), -5), Reason.INVALID_EVENT);
    }

    @Test
    void aRunThatDoesNotExistCannotStart() {
        Given.events().whenRefused(run("run-1", started()), Reason.NOT_FOUND);
    }

    @Test
    void aRunIsCreatedOnce() {
        Given.events(run("run-1", created())).whenRefused(run("run-1", created()), Reason.ALREADY_EXISTS);
    }

    @Test
    void anExpectedVersionThatIsNotTheRunsIsAConflict() {
        Given.events(run("run-1", created())).whenRefused(run("run-1", started(), 5), Reason.VERSION_CONFLICT);
    }

    @Test
    void aFinishedRunDoesNotStartAgain() {
        Given.events(run("run-1", created()), run("run-1", started()), run("run-1", succeeded()))
                .whenRefused(run("run-1", started()), Reason.ILLEGAL_TRANSITION);
    }

    @Test
    void aRunIsDeletedOnceItHasFinishedAndThenIsGone() {
        RunEvent deletion = dev.substrate.events.run.RunEvent.newBuilder(run("run-1", labelled(Map.of())))
                .setDeletion(new dev.substrate.events.run.RunDeletion("old", "old-runs"))
                .build();
        Given.events(run("run-1", created()), run("run-1", started())).whenRefused(deletion, Reason.ILLEGAL_TRANSITION);
        Given given = Given.events(run("run-1", created()), run("run-1", started()), run("run-1", succeeded()));
        assertThat(given.apply(deletion))
                .isInstanceOfSatisfying(
                        Decision.Applied.class,
                        applied -> assertThat(applied.state()).isNull());
        given.whenRefused(run("run-1", labelled(Map.of("k", "v"))), Reason.NOT_FOUND);
    }

    @Test
    void aDeletionRidesOnAnEmptyRunLabelledAlone() {
        RunEvent onLabels = dev.substrate.events.run.RunEvent.newBuilder(run("run-1", labelled(Map.of("k", "v"))))
                .setDeletion(new dev.substrate.events.run.RunDeletion(null, null))
                .build();
        RunEvent onSuccess = dev.substrate.events.run.RunEvent.newBuilder(run("run-1", succeeded()))
                .setDeletion(new dev.substrate.events.run.RunDeletion(null, null))
                .build();
        Given given = Given.events(run("run-1", created()), run("run-1", started()));
        given.whenRefused(onLabels, Reason.INVALID_EVENT);
        given.whenRefused(onSuccess, Reason.INVALID_EVENT);
    }

    @Test
    void aClosedRoomTakesNoMoreEvents() {
        Given.events(ownRoom("room-1"), room("room-1", closed()))
                .whenRefused(room("room-1", log("late")), Reason.ROOM_CLOSED);
    }

    @Test
    void aNonMemberMayNotAppend() {
        Given.events(ownRoom("room-1")).whenRefused(room("room-1", log("hi"), "mallory"), Reason.NOT_PERMITTED);
    }

    @Test
    void revokingSomeoneWhoIsNotAMemberIsRefused() {
        Given.events(ownRoom("room-1")).whenRefused(room("room-1", revoke("nobody")), Reason.NOT_A_MEMBER);
    }

    @Test
    void oneTurnAtATime() {
        Given.events(ownRoom("room-1"), room("room-1", turnStarted("t1")))
                .whenRefused(room("room-1", turnStarted("t2")), Reason.TURN_IN_PROGRESS);
    }

    @Test
    void aTurnThatWasNotStartedCannotEnd() {
        Given.events(ownRoom("room-1")).whenRefused(room("room-1", turnEnded("t9")), Reason.NO_SUCH_TURN);
    }

    @Test
    void aRoomEventLeavesTheStateItWasAppliedToAsItWas() {
        // The fold keeps states it wrote and reads them again: a rule that changed one in place would change what
        // it remembers. Each step's state is compared with a deep copy taken before the next event.
        List<Object> payloads = List.of(
                SampleEvents.grant("bob@example.com", RoomRole.writer),
                turnStarted("t1"),
                blockStarted("b1", "t1"),
                delta("b1", "hello"),
                delta("b1", " world"),
                SampleEvents.blockCompleted("b1"),
                turnEnded("t1"),
                SampleEvents.status(EnvironmentStatus.ready, "up"),
                log("a line"),
                SampleEvents.error("E1", "failed once"),
                revoke("bob@example.com"),
                closed());
        RoomState state = applied(RoomFold.apply(null, ownRoom("room-1"), 0));
        long offset = 1;
        for (Object payload : payloads) {
            RoomState before = RoomState.newBuilder(state).build();
            RoomState after = applied(RoomFold.apply(state, room("room-1", payload), offset++));
            assertThat(state).as("the state " + payload + " was applied to").isEqualTo(before);
            assertThat(after.getProject()).isEqualTo(before.getProject());
            assertThat(after.getCreatedAt()).isEqualTo(before.getCreatedAt());
            assertThat(after.getVersion()).isEqualTo(before.getVersion() + 1);
            state = after;
        }
        assertThat(state.getClosed()).isTrue();
        assertThat(state.getCounters().getBlocks()).isEqualTo(1);
    }

    private static RoomState applied(Decision<RoomChange> decision) {
        assertThat(decision).isInstanceOf(Decision.Applied.class);
        return decision instanceof Decision.Applied<RoomChange> applied
                ? applied.state().state()
                : null;
    }

    @Test
    void aBlockIsStartedOnce() {
        Given.events(ownRoom("room-1"), room("room-1", blockStarted("b1", null)))
                .whenRefused(room("room-1", blockStarted("b1", null)), Reason.BLOCK_EXISTS);
    }

    @Test
    void aDeltaNeedsAnOpenBlock() {
        Given.events(ownRoom("room-1")).whenRefused(room("room-1", delta("b9", "x")), Reason.NO_OPEN_BLOCK);
    }

    @Test
    void anEventIdBelongsToOneEntity() {
        RunEvent first = run("run-1", created());
        Given.events(first)
                .whenRefused(withEventId(run("run-2", created()), first.getEventId()), Reason.EVENT_ID_REUSED);
    }

    @Test
    void aRunWhoseStateWouldPassTheRecordLimitIsRefused() {
        Given given = new Given(FoldLimits.of(1024)).and(run("run-1", created()));
        String value = "v".repeat(700);
        Decision<?> last = null;
        for (int i = 0; i < 200 && !(last instanceof Decision.Rejected); i++) {
            last = given.apply(run("run-1", labelled(Map.of("key-" + i, value))));
        }
        assertThat(last)
                .isInstanceOfSatisfying(
                        Decision.Rejected.class,
                        rejected -> assertThat(rejected.reason())
                                .as(rejected.message())
                                .isEqualTo(Reason.STATE_TOO_LARGE));
        reached.add(Reason.STATE_TOO_LARGE);
    }

    @Test
    void aBlockPastItsBoundIsRefusedAndTheRoomGoesOn() {
        Given given = new Given(FoldLimits.of(EventValidator.DEFAULT_MAX_EVENT_BYTES, 1024, 4096))
                .and(ownRoom("room-1"), room("room-1", blockStarted("b1", null)));
        for (int i = 0; i < 4; i++) {
            given.and(room("room-1", delta("b1", "x".repeat(1000))));
        }
        given.whenRefused(room("room-1", delta("b1", "y".repeat(200))), Reason.BLOCK_TOO_LARGE);
        given.and(room("room-1", log("still open")));
    }

    @Test
    void anArtifactIsRegisteredOnce() {
        Given.events(artifact("artifact-1", registered()))
                .whenRefused(artifact("artifact-1", registered()), Reason.ALREADY_EXISTS);
    }

    // --- interrupts ---

    private static final String APPROVAL =
            "{\"type\":\"object\",\"properties\":{\"approved\":{\"type\":\"boolean\"}},\"required\":[\"approved\"]}";

    private static Given waitingOn(Interrupt... interrupts) {
        return Given.events(run("run-1", created()), run("run-1", started()), run("run-1", waiting(interrupts)));
    }

    private static RunState runState(Given given) {
        return given.fold.runs().get("run-1");
    }

    @Test
    void aRunWaitsUntilItsLastInterruptIsAnsweredThenGoesOn() {
        Given given = waitingOn(interrupt("i1", APPROVAL), interrupt("i2", null));
        given.and(run("run-1", answer("i1", AnswerStatus.resolved, "{\"approved\": true}")));
        assertThat(runState(given).getStatus()).isEqualTo(RunStatus.waiting);
        given.and(
                run("run-1", waiting(interrupt("i3", null))), run("run-1", answer("i3", AnswerStatus.cancelled, null)));
        assertThat(runState(given).getStatus()).isEqualTo(RunStatus.waiting);

        given.and(run("run-1", answer("i2", AnswerStatus.resolved, "\"any text\"")));

        RunState run = runState(given);
        assertThat(run.getStatus()).isEqualTo(RunStatus.running);
        assertThat(run.getWaitingOn()).isNull();
        assertThat(run.getInterrupts())
                .extracting(RunInterrupt::getInterruptId, RunInterrupt::getStatus, RunInterrupt::getAnsweredBy)
                .containsExactly(
                        tuple("i1", InterruptStatus.resolved, "svc:runner"),
                        tuple("i2", InterruptStatus.resolved, "svc:runner"),
                        tuple("i3", InterruptStatus.cancelled, "svc:runner"));
        assertThat(run.getInterrupts().get(0).getPayload()).isEqualTo("{\"approved\": true}");
    }

    @Test
    void theSameAnswerAgainIsADuplicateAndAnotherIsRefused() {
        Given given = waitingOn(interrupt("i1", APPROVAL), interrupt("i2", null));
        given.and(run("run-1", answer("i1", AnswerStatus.resolved, "{\"approved\":true}")));

        assertThat(given.apply(run("run-1", answer("i1", AnswerStatus.resolved, "{ \"approved\" : true }"))))
                .isInstanceOf(Decision.Duplicate.class);
        given.whenRefused(run("run-1", answer("i1", AnswerStatus.cancelled, null)), Reason.INTERRUPT_ANSWERED);
        assertThat(runState(given).getVersion()).isEqualTo(4);
    }

    @Test
    void anAnswerIsCheckedAgainstTheSchemaItWasAskedFor() {
        Given given = waitingOn(interrupt("i1", APPROVAL));
        given.whenRefused(
                run("run-1", answer("i1", AnswerStatus.resolved, "{\"approved\":\"yes\"}")), Reason.INVALID_ANSWER);
        given.whenRefused(run("run-1", answer("i1", AnswerStatus.resolved, null)), Reason.INVALID_ANSWER);
        // Cancelling gives nothing to check.
        given.and(run("run-1", answer("i1", AnswerStatus.cancelled, null)));
        assertThat(runState(given).getStatus()).isEqualTo(RunStatus.running);
    }

    @Test
    void unknownExpiredAndRepeatedIdsAreRefused() {
        Interrupt expiring = new Interrupt("late", "input", null, null, null, SampleEvents.AT.toString());
        Given given = waitingOn(interrupt("i1", null), expiring);
        given.whenRefused(run("run-1", answer("i9", AnswerStatus.resolved, null)), Reason.NO_SUCH_INTERRUPT);
        // Judged by the answer's own time (SampleEvents.AT): the interrupt expired at that instant.
        given.whenRefused(run("run-1", answer("late", AnswerStatus.resolved, null)), Reason.INTERRUPT_EXPIRED);
        given.whenRefused(run("run-1", waiting(interrupt("i1", null))), Reason.INTERRUPT_EXISTS);
        given.whenRefused(run("run-1", resumed()), Reason.INTERRUPTS_OPEN);
    }

    @Test
    void aRunHasAtMost32InterruptsOpen() {
        Interrupt[] many = new Interrupt[EventValidator.MAX_OPEN_INTERRUPTS];
        for (int i = 0; i < many.length; i++) {
            many[i] = interrupt("i" + i, null);
        }
        waitingOn(many).whenRefused(run("run-1", waiting(interrupt("one-more", null))), Reason.TOO_MANY_INTERRUPTS);
    }

    @Test
    void finishingWithdrawsTheOpenInterrupts() {
        Given given = waitingOn(interrupt("i1", null));
        given.and(run("run-1", cancelled()));
        assertThat(runState(given).getInterrupts().get(0).getStatus()).isEqualTo(InterruptStatus.withdrawn);
        given.whenRefused(run("run-1", answer("i1", AnswerStatus.resolved, null)), Reason.ILLEGAL_TRANSITION);
    }

    @Test
    void aResponseSchemaThatWouldRunARegexOrFetchSomethingIsRefusedAtTheDoor() {
        Given given = Given.events(run("run-1", created()), run("run-1", started()));
        given.whenRefused(
                run("run-1", waiting(interrupt("i1", "{\"type\":\"string\",\"pattern\":\"^(a+)+$\"}"))),
                Reason.INVALID_EVENT);
        given.whenRefused(
                run("run-1", waiting(interrupt("i1", "{\"$ref\":\"http://169.254.169.254/latest\"}"))),
                Reason.INVALID_EVENT);
        given.whenRefused(run("run-1", waiting(interrupt("i1", "{\"type\": 7}"))), Reason.INVALID_EVENT);
        given.whenRefused(run("run-1", waiting(interrupt("i1", "not json"))), Reason.INVALID_EVENT);
        // A property that happens to be called pattern is a property, and a local $ref is fine.
        given.and(run(
                "run-1",
                waiting(interrupt(
                        "i1",
                        "{\"$defs\":{\"p\":{\"type\":\"string\"}},\"type\":\"object\","
                                + "\"properties\":{\"pattern\":{\"$ref\":\"#/$defs/p\"}}}"))));
        given.whenRefused(run("run-1", answer("i1", AnswerStatus.resolved, "{\"pattern\": 1}")), Reason.INVALID_ANSWER);
    }

    @AfterAll
    static void everyReasonOfTheRulesIsReached() {
        Set<Reason> expected = EnumSet.allOf(Reason.class);
        // Decided by the Kafka Streams driver from the record's partition, before any rule: tested with it.
        expected.remove(Reason.WRONG_PARTITION);
        // A transcript entry is bounded by the event that makes it, within max.event.bytes; the check guards a
        // record that would grow past the fold's limit all the same, and no single event reaches it.
        expected.remove(Reason.ENTRY_TOO_LARGE);
        assertThat(reached).as("reasons the rules' tests reached").containsExactlyInAnyOrderElementsOf(expected);
    }
}
