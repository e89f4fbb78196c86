package dev.substrate.fold;

import dev.substrate.events.common.Correlation;
import dev.substrate.events.room.LogEmitted;
import dev.substrate.events.room.LogLevel;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.run.Failure;
import dev.substrate.events.run.InterruptAnswer;
import dev.substrate.events.run.Result;
import dev.substrate.events.run.RunCancelled;
import dev.substrate.events.run.RunCreated;
import dev.substrate.events.run.RunEvent;
import dev.substrate.events.run.RunFailed;
import dev.substrate.events.run.RunLabelled;
import dev.substrate.events.run.RunResumed;
import dev.substrate.events.run.RunStarted;
import dev.substrate.events.run.RunSucceeded;
import dev.substrate.events.run.RunTimedOut;
import dev.substrate.events.run.RunWaiting;
import dev.substrate.events.run.WaitingOn;
import dev.substrate.events.run.Where;
import dev.substrate.state.RunInterrupt;
import dev.substrate.state.RunState;
import dev.substrate.state.RunStatus;
import dev.substrate.state.RunTimestamps;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The run rules, as a pure function of the current state and one event: the status machine {@code queued ->
 * running <-> waiting -> succeeded | failed | cancelled | timed_out} (terminal states are final; cancelling is
 * allowed from queued, running and waiting; succeeding, failing and timing out from running and waiting), the
 * version check, and what each event changes. A run's interrupts ({@link RunInterrupts}) are raised by {@code
 * RunWaiting} (again while waiting: more) and answered by {@code RunResumed} with an {@code answer}; a waiting run
 * resumes with its last open interrupt's answer, and a resume without an answer is refused while any is open. Used alike by the Kafka Streams fold and the local SQLite store.
 */
public final class RunFold {

    private static final Set<RunStatus> TERMINAL =
            EnumSet.of(RunStatus.succeeded, RunStatus.failed, RunStatus.cancelled, RunStatus.timed_out);
    private static final Set<RunStatus> ACTIVE = EnumSet.of(RunStatus.running, RunStatus.waiting);
    private static final Set<RunStatus> UNFINISHED = EnumSet.of(RunStatus.queued, RunStatus.running, RunStatus.waiting);

    private RunFold() {}

    /** Whether a status is terminal. */
    public static boolean isTerminal(RunStatus status) {
        return TERMINAL.contains(status);
    }

    /**
     * The log lines {@code event}, applied to give {@code after}, puts in the run's session room: an interrupt
     * raised, an interrupt answered; none for other events or a run without a session room. Each becomes a {@code
     * LogEmitted} of the room, written by the fold with no actor and an id derived from the run event's, so that a
     * room's transcript shows what its run asked and was answered.
     */
    public static List<RoomEvent> roomNotes(RunEvent event, RunState after) {
        String roomId = after.getSessionRoomId();
        if (roomId == null) {
            return List.of();
        }
        List<String> lines = RunInterrupts.transcriptLines(event, after);
        List<RoomEvent> notes = new ArrayList<>(lines.size());
        for (int i = 0; i < lines.size(); i++) {
            notes.add(RoomEvent.newBuilder()
                    .setEventId("run-note-"
                            + UUID.nameUUIDFromBytes((event.getEventId() + "/" + i).getBytes(StandardCharsets.UTF_8)))
                    .setRoomId(roomId)
                    .setOccurredAt(event.getOccurredAt())
                    .setActor(null)
                    .setCorrelation(new Correlation(
                            event.getCorrelation().getCorrelationId(),
                            event.getEventId(),
                            event.getCorrelation().getTraceparent()))
                    .setPayload(new LogEmitted(LogLevel.info, lines.get(i)))
                    .build());
        }
        return notes;
    }

    /**
     * Decides one event.
     *
     * @param current the run before the event; null if it does not exist
     * @param event a valid event (see {@link dev.substrate.event.EventValidator})
     * @return the run after the event (null when the event deletes it), or why it was refused
     */
    public static Decision<RunState> apply(RunState current, RunEvent event) {
        Object payload = event.getPayload();
        if (current == null) {
            if (payload instanceof RunCreated created) {
                if (event.getExpectedVersion() != null && event.getExpectedVersion() != 0) {
                    return versionConflict(0, event.getExpectedVersion());
                }
                return Decision.applied(create(event, created));
            }
            return Decision.rejected(
                    Reason.NOT_FOUND,
                    "run " + event.getRunId() + " does not exist; " + type(payload) + " needs a RunCreated first");
        }
        if (payload instanceof RunCreated) {
            return Decision.rejected(Reason.ALREADY_EXISTS, "run " + event.getRunId() + " already exists");
        }
        if (event.getExpectedVersion() != null && event.getExpectedVersion() != current.getVersion()) {
            return versionConflict(current.getVersion(), event.getExpectedVersion());
        }
        RunStatus status = current.getStatus();
        if (event.getDeletion() != null) {
            // A deleted run has no state: the fold removes it and what derives from it.
            return isTerminal(status)
                    ? Decision.applied(null)
                    : Decision.rejected(
                            Reason.ILLEGAL_TRANSITION,
                            "a run is deleted once it has finished; run " + event.getRunId() + " is " + status);
        }
        Next next = new Next(current);
        if (payload instanceof RunStarted started) {
            if (status != RunStatus.queued) {
                return illegal(status, payload);
            }
            next.status = RunStatus.running;
            if (started.getWhere() != null) {
                next.where = started.getWhere();
            }
            next.startedAt = event.getOccurredAt();
        } else if (payload instanceof RunWaiting waiting) {
            boolean raisingMore =
                    status == RunStatus.waiting && !waiting.getInterrupts().isEmpty();
            if (status != RunStatus.running && !raisingMore) {
                return illegal(status, payload);
            }
            if (!raisingMore) {
                next.status = RunStatus.waiting;
                next.waitingOn = waiting.getWaitingOn();
                next.waitingAt = event.getOccurredAt();
            }
            RunInterrupts.Change raised = RunInterrupts.raise(
                    event.getRunId(), current.getInterrupts(), waiting.getInterrupts(), event.getOccurredAt());
            if (raised.refused() != null) {
                return raised.refused();
            }
            next.interrupts = raised.interrupts();
        } else if (payload instanceof RunResumed resumed && resumed.getAnswer() != null) {
            if (isTerminal(status)) {
                return Decision.rejected(
                        Reason.ILLEGAL_TRANSITION,
                        "run " + event.getRunId() + " is " + status + "; its open interrupts were withdrawn when it"
                                + " finished, and it takes no answers");
            }
            InterruptAnswer answer = resumed.getAnswer();
            String answeredBy = answer.getAnsweredBy() != null ? answer.getAnsweredBy() : event.getActor();
            RunInterrupts.Change answered = RunInterrupts.answer(
                    event.getRunId(), current.getInterrupts(), answer, answeredBy, event.getOccurredAt());
            if (answered.duplicate()) {
                return new Decision.Duplicate<>();
            }
            if (answered.refused() != null) {
                return answered.refused();
            }
            next.interrupts = answered.interrupts();
            if (status == RunStatus.waiting
                    && RunInterrupts.openIds(next.interrupts).isEmpty()) {
                // The last open interrupt is answered: the run goes on, as a RunResumed without an answer would.
                next.status = RunStatus.running;
                next.waitingOn = null;
                next.resumedAt = event.getOccurredAt();
            }
        } else if (payload instanceof RunResumed) {
            if (status != RunStatus.waiting) {
                return illegal(status, payload);
            }
            List<String> open = RunInterrupts.openIds(current.getInterrupts());
            if (!open.isEmpty()) {
                return Decision.rejected(
                        Reason.INTERRUPTS_OPEN,
                        "run " + event.getRunId() + " waits on the open interrupts " + open
                                + "; answer or cancel each (it resumes after the last)");
            }
            next.status = RunStatus.running;
            next.waitingOn = null;
            next.resumedAt = event.getOccurredAt();
        } else if (payload instanceof RunSucceeded succeeded) {
            if (!ACTIVE.contains(status)) {
                return illegal(status, payload);
            }
            next.finish(RunStatus.succeeded, event);
            next.result = succeeded.getResult();
        } else if (payload instanceof RunFailed failed) {
            if (!ACTIVE.contains(status)) {
                return illegal(status, payload);
            }
            next.finish(RunStatus.failed, event);
            next.failure = failed.getFailure();
        } else if (payload instanceof RunCancelled cancelled) {
            if (!UNFINISHED.contains(status)) {
                return illegal(status, payload);
            }
            next.finish(RunStatus.cancelled, event);
            next.endReason = cancelled.getReason();
        } else if (payload instanceof RunTimedOut timedOut) {
            if (!ACTIVE.contains(status)) {
                return illegal(status, payload);
            }
            next.finish(RunStatus.timed_out, event);
            next.endReason = timedOut.getDetail();
        } else if (payload instanceof RunLabelled labelled) {
            Map<String, String> labels = new HashMap<>(current.getLabels());
            labelled.getRemoved().forEach(labels::remove);
            labels.putAll(labelled.getLabels());
            next.labels = labels;
        } else {
            throw new IllegalArgumentException("unknown run event " + type(payload));
        }
        return Decision.applied(next.after(event));
    }

    /**
     * What a run's events change, starting from the run before the event; the next state is built with Avro's
     * all-args constructors, sharing every other part with the run before (the rules never change a part in place).
     * Not {@code RunState.newBuilder(current)}: Avro's builders copy every field deeply, each timestamp through its
     * conversion, which was a third of deciding a run event in the profile of the fold. A field added to the schema
     * changes the constructors, so this does not compile until it says what becomes of it.
     */
    private static final class Next {
        private final RunState before;
        RunStatus status;
        Where where;
        WaitingOn waitingOn;
        List<RunInterrupt> interrupts;
        Failure failure;
        Result result;
        String endReason;
        Map<String, String> labels;
        Instant startedAt;
        Instant waitingAt;
        Instant resumedAt;
        Instant finishedAt;

        Next(RunState before) {
            this.before = before;
            RunTimestamps times = before.getTimestamps();
            status = before.getStatus();
            where = before.getWhere();
            waitingOn = before.getWaitingOn();
            interrupts = before.getInterrupts();
            failure = before.getFailure();
            result = before.getResult();
            endReason = before.getEndReason();
            labels = before.getLabels();
            startedAt = times.getStartedAt();
            waitingAt = times.getWaitingAt();
            resumedAt = times.getResumedAt();
            finishedAt = times.getFinishedAt();
        }

        void finish(RunStatus terminal, RunEvent event) {
            status = terminal;
            waitingOn = null;
            interrupts = RunInterrupts.withdraw(interrupts, event.getOccurredAt());
            finishedAt = event.getOccurredAt();
        }

        /** The run after {@code event}: one version on, updated when the event happened. */
        RunState after(RunEvent event) {
            RunTimestamps times = new RunTimestamps(
                    before.getTimestamps().getCreatedAt(),
                    startedAt,
                    waitingAt,
                    resumedAt,
                    finishedAt,
                    event.getOccurredAt());
            return new RunState(
                    before.getRunId(),
                    before.getVersion() + 1,
                    status,
                    before.getScope(),
                    before.getProject(),
                    before.getTaskId(),
                    before.getParentRunId(),
                    before.getActivation(),
                    labels,
                    before.getSessionRoomId(),
                    where,
                    waitingOn,
                    interrupts,
                    failure,
                    result,
                    endReason,
                    before.getCorrelationId(),
                    times,
                    event.getEventId(),
                    UsageTotals.add(before.getUsage(), event.getUsage()),
                    before.getTraceparent());
        }
    }

    private static RunState create(RunEvent event, RunCreated created) {
        return RunState.newBuilder()
                .setRunId(event.getRunId())
                .setVersion(1)
                .setStatus(RunStatus.queued)
                .setScope(created.getScope())
                .setProject(created.getProject())
                .setTaskId(created.getTaskId())
                .setParentRunId(created.getParentRunId())
                .setActivation(created.getActivation())
                .setLabels(new HashMap<>(created.getLabels()))
                .setSessionRoomId(created.getSessionRoomId())
                .setWhere(created.getWhere())
                .setCorrelationId(event.getCorrelation().getCorrelationId())
                .setTimestamps(RunTimestamps.newBuilder()
                        .setCreatedAt(event.getOccurredAt())
                        .setUpdatedAt(event.getOccurredAt())
                        .build())
                .setLastEventId(event.getEventId())
                .setUsage(UsageTotals.add(List.of(), event.getUsage()))
                .setTraceparent(event.getCorrelation().getTraceparent())
                .build();
    }

    private static Decision<RunState> illegal(RunStatus status, Object payload) {
        return Decision.rejected(
                Reason.ILLEGAL_TRANSITION,
                type(payload) + " is not allowed for a run that is " + status
                        + (isTerminal(status) ? " (terminal states are final)" : ""));
    }

    private static Decision<RunState> versionConflict(long actual, long expected) {
        return Decision.rejected(
                Reason.VERSION_CONFLICT, "expected version " + expected + " but the run is at version " + actual);
    }

    private static String type(Object payload) {
        return payload == null ? "null" : payload.getClass().getSimpleName();
    }
}
