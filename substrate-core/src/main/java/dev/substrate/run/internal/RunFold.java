package dev.substrate.run.internal;

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
import dev.substrate.fold.Decision;
import dev.substrate.fold.Reason;
import dev.substrate.state.RunState;
import dev.substrate.state.RunStatus;
import dev.substrate.state.RunTimestamps;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The run rules, as a pure function of the current state and one event: the status machine {@code queued ->
 * running <-> waiting -> succeeded | failed | cancelled | timed_out} (terminal states are final; cancelling is
 * allowed from queued, running and waiting; succeeding, failing and timing out from running and waiting), the
 * version check, and what each event changes. Used alike by the Kafka Streams fold and the local SQLite store.
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
     * Decides one event.
     *
     * @param current the run before the event; null if it does not exist
     * @param event a valid event (see {@link dev.substrate.event.EventValidator})
     * @return the run after the event, or why it was refused
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
        RunState.Builder next = RunState.newBuilder(current);
        RunTimestamps.Builder times = RunTimestamps.newBuilder(current.getTimestamps());
        if (payload instanceof RunStarted started) {
            if (status != RunStatus.queued) {
                return illegal(status, payload);
            }
            next.setStatus(RunStatus.running);
            if (started.getWhere() != null) {
                next.setWhere(started.getWhere());
            }
            times.setStartedAt(event.getOccurredAt());
        } else if (payload instanceof RunWaiting waiting) {
            if (status != RunStatus.running) {
                return illegal(status, payload);
            }
            next.setStatus(RunStatus.waiting).setWaitingOn(waiting.getWaitingOn());
            times.setWaitingAt(event.getOccurredAt());
        } else if (payload instanceof RunResumed) {
            if (status != RunStatus.waiting) {
                return illegal(status, payload);
            }
            next.setStatus(RunStatus.running).setWaitingOn(null);
            times.setResumedAt(event.getOccurredAt());
        } else if (payload instanceof RunSucceeded succeeded) {
            if (!ACTIVE.contains(status)) {
                return illegal(status, payload);
            }
            finish(next, times, RunStatus.succeeded, event).setResult(succeeded.getResult());
        } else if (payload instanceof RunFailed failed) {
            if (!ACTIVE.contains(status)) {
                return illegal(status, payload);
            }
            finish(next, times, RunStatus.failed, event).setFailure(failed.getFailure());
        } else if (payload instanceof RunCancelled cancelled) {
            if (!UNFINISHED.contains(status)) {
                return illegal(status, payload);
            }
            finish(next, times, RunStatus.cancelled, event).setEndReason(cancelled.getReason());
        } else if (payload instanceof RunTimedOut timedOut) {
            if (!ACTIVE.contains(status)) {
                return illegal(status, payload);
            }
            finish(next, times, RunStatus.timed_out, event).setEndReason(timedOut.getDetail());
        } else if (payload instanceof RunLabelled labelled) {
            Map<String, String> labels = new HashMap<>(current.getLabels());
            labelled.getRemoved().forEach(labels::remove);
            labels.putAll(labelled.getLabels());
            next.setLabels(labels);
        } else {
            throw new IllegalArgumentException("unknown run event " + type(payload));
        }
        times.setUpdatedAt(event.getOccurredAt());
        return Decision.applied(next.setVersion(current.getVersion() + 1)
                .setTimestamps(times.build())
                .setLastEventId(event.getEventId())
                .build());
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
                .build();
    }

    private static RunState.Builder finish(
            RunState.Builder next, RunTimestamps.Builder times, RunStatus status, RunEvent event) {
        times.setFinishedAt(event.getOccurredAt());
        return next.setStatus(status).setWaitingOn(null);
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
