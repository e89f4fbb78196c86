package dev.substrate.fold;

import com.fasterxml.jackson.databind.JsonNode;
import dev.substrate.event.EventValidator;
import dev.substrate.event.ResponseSchemas;
import dev.substrate.events.run.AnswerStatus;
import dev.substrate.events.run.Interrupt;
import dev.substrate.events.run.InterruptAnswer;
import dev.substrate.events.run.RunEvent;
import dev.substrate.events.run.RunResumed;
import dev.substrate.events.run.RunWaiting;
import dev.substrate.state.InterruptStatus;
import dev.substrate.state.RunInterrupt;
import dev.substrate.state.RunState;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The interrupt rules of a run: raising (ids unique in the run, at most {@value EventValidator#MAX_OPEN_INTERRUPTS}
 * open), answering (unknown, expired and already answered ids refused; the same answer again a duplicate; a
 * resolving payload checked against the interrupt's {@code responseSchema}) and withdrawing the open ones when the
 * run finishes. Everything is judged by the event's own time, so a rebuild decides the same. The run state keeps the
 * open interrupts and the {@value #KEPT_ANSWERED} latest answered ones.
 */
final class RunInterrupts {

    /** How many answered interrupts a run's state keeps (the log keeps them all). */
    static final int KEPT_ANSWERED = 64;

    private RunInterrupts() {}

    /** What a rule decided: the run's interrupts afterwards, a refusal, or a duplicate answer. */
    record Change(List<RunInterrupt> interrupts, Decision<RunState> refused, boolean duplicate) {

        static Change to(List<RunInterrupt> interrupts) {
            return new Change(interrupts, null, false);
        }

        static Change refused(Reason reason, String message) {
            return new Change(null, Decision.rejected(reason, message), false);
        }
    }

    /** {@code current} with {@code raised} open, as of {@code at}. */
    static Change raise(String runId, List<RunInterrupt> current, List<Interrupt> raised, Instant at) {
        List<RunInterrupt> next = new ArrayList<>(current);
        for (Interrupt interrupt : raised) {
            if (find(current, interrupt.getInterruptId()) != null) {
                return Change.refused(
                        Reason.INTERRUPT_EXISTS,
                        "run " + runId + " already raised interrupt " + interrupt.getInterruptId()
                                + "; give each interrupt of a run an id of its own");
            }
            next.add(new RunInterrupt(
                    interrupt.getInterruptId(),
                    interrupt.getReason(),
                    interrupt.getMessage(),
                    interrupt.getToolCallId(),
                    interrupt.getResponseSchema(),
                    interrupt.getExpiresAt(),
                    InterruptStatus.open,
                    at,
                    null,
                    null,
                    null));
        }
        int open = openIds(next).size();
        if (open > EventValidator.MAX_OPEN_INTERRUPTS) {
            return Change.refused(
                    Reason.TOO_MANY_INTERRUPTS,
                    "run " + runId + " would have " + open + " open interrupts; at most "
                            + EventValidator.MAX_OPEN_INTERRUPTS + " are open at once");
        }
        return Change.to(next);
    }

    /** {@code current} with {@code answer} given by {@code answeredBy} at {@code at}. */
    static Change answer(
            String runId, List<RunInterrupt> current, InterruptAnswer answer, String answeredBy, Instant at) {
        String id = answer.getInterruptId();
        RunInterrupt interrupt = find(current, id);
        if (interrupt == null) {
            return Change.refused(
                    Reason.NO_SUCH_INTERRUPT,
                    "run " + runId + " has no interrupt " + id
                            + (openIds(current).isEmpty() ? "" : "; its open interrupts are " + openIds(current)));
        }
        InterruptStatus status =
                answer.getStatus() == AnswerStatus.resolved ? InterruptStatus.resolved : InterruptStatus.cancelled;
        if (interrupt.getStatus() != InterruptStatus.open) {
            if (interrupt.getStatus() == status && samePayload(interrupt.getPayload(), answer.getPayload())) {
                return new Change(null, null, true);
            }
            return Change.refused(
                    Reason.INTERRUPT_ANSWERED,
                    "interrupt " + id + " of run " + runId + " was already " + interrupt.getStatus()
                            + (interrupt.getAnsweredBy() == null ? "" : " by " + interrupt.getAnsweredBy())
                            + " at " + interrupt.getAnsweredAt() + "; an answer is given once");
        }
        if (interrupt.getExpiresAt() != null && !at.isBefore(Instant.parse(interrupt.getExpiresAt()))) {
            return Change.refused(
                    Reason.INTERRUPT_EXPIRED,
                    "interrupt " + id + " of run " + runId + " expired at " + interrupt.getExpiresAt()
                            + "; the answer happened at " + at);
        }
        if (status == InterruptStatus.resolved && interrupt.getResponseSchema() != null) {
            List<String> violations = ResponseSchemas.violations(interrupt.getResponseSchema(), answer.getPayload());
            if (!violations.isEmpty()) {
                return Change.refused(
                        Reason.INVALID_ANSWER,
                        "the payload does not satisfy the responseSchema of interrupt " + id + ": "
                                + String.join("; ", violations));
            }
        }
        List<RunInterrupt> next = new ArrayList<>(current.size());
        for (RunInterrupt each : current) {
            next.add(each == interrupt ? answered(each, status, answer.getPayload(), answeredBy, at) : each);
        }
        return Change.to(trimmed(next));
    }

    /** {@code current} with every open interrupt withdrawn at {@code at}: the run finished without their answers. */
    static List<RunInterrupt> withdraw(List<RunInterrupt> current, Instant at) {
        if (openIds(current).isEmpty()) {
            return current;
        }
        List<RunInterrupt> next = new ArrayList<>(current.size());
        for (RunInterrupt each : current) {
            next.add(
                    each.getStatus() == InterruptStatus.open
                            ? answered(each, InterruptStatus.withdrawn, null, null, at)
                            : each);
        }
        return trimmed(next);
    }

    /** The ids of the open interrupts, oldest first. */
    static List<String> openIds(List<RunInterrupt> interrupts) {
        List<String> open = new ArrayList<>();
        for (RunInterrupt interrupt : interrupts) {
            if (interrupt.getStatus() == InterruptStatus.open) {
                open.add(interrupt.getInterruptId());
            }
        }
        return open;
    }

    /**
     * The lines a run's session room shows of {@code event}, applied: one for each interrupt a {@code RunWaiting}
     * raised, one for an answer; none for other events. Each at most {@value #MAX_LINE_CHARS} characters.
     */
    static List<String> transcriptLines(RunEvent event, RunState after) {
        List<String> lines = new ArrayList<>();
        Object payload = event.getPayload();
        if (payload instanceof RunWaiting waiting) {
            for (Interrupt interrupt : waiting.getInterrupts()) {
                lines.add(line("interrupt " + interrupt.getInterruptId() + " raised (" + interrupt.getReason() + ")"
                        + (interrupt.getToolCallId() == null ? "" : " for tool call " + interrupt.getToolCallId())
                        + (interrupt.getMessage() == null ? "" : ": " + interrupt.getMessage())));
            }
        } else if (payload instanceof RunResumed resumed && resumed.getAnswer() != null) {
            RunInterrupt answered =
                    find(after.getInterrupts(), resumed.getAnswer().getInterruptId());
            if (answered != null) {
                lines.add(line("interrupt " + answered.getInterruptId() + " " + answered.getStatus()
                        + (answered.getAnsweredBy() == null ? "" : " by " + answered.getAnsweredBy())
                        + (answered.getPayload() == null ? "" : ": " + answered.getPayload())));
            }
        }
        return lines;
    }

    /** The longest line {@link #transcriptLines} gives. */
    static final int MAX_LINE_CHARS = 2_000;

    private static String line(String text) {
        return FoldLimits.cut(text, MAX_LINE_CHARS);
    }

    private static RunInterrupt answered(
            RunInterrupt interrupt, InterruptStatus status, String payload, String answeredBy, Instant at) {
        return new RunInterrupt(
                interrupt.getInterruptId(),
                interrupt.getReason(),
                interrupt.getMessage(),
                interrupt.getToolCallId(),
                interrupt.getResponseSchema(),
                interrupt.getExpiresAt(),
                status,
                interrupt.getRaisedAt(),
                payload,
                answeredBy,
                at.toString());
    }

    /** {@code interrupts} without the oldest answered ones past {@value #KEPT_ANSWERED}. */
    private static List<RunInterrupt> trimmed(List<RunInterrupt> interrupts) {
        int answered = interrupts.size() - openIds(interrupts).size();
        if (answered <= KEPT_ANSWERED) {
            return interrupts;
        }
        int drop = answered - KEPT_ANSWERED;
        List<RunInterrupt> kept = new ArrayList<>(interrupts.size() - drop);
        for (RunInterrupt interrupt : interrupts) {
            if (drop > 0 && interrupt.getStatus() != InterruptStatus.open) {
                drop--;
            } else {
                kept.add(interrupt);
            }
        }
        return kept;
    }

    private static RunInterrupt find(List<RunInterrupt> interrupts, String id) {
        for (RunInterrupt interrupt : interrupts) {
            if (interrupt.getInterruptId().equals(id)) {
                return interrupt;
            }
        }
        return null;
    }

    /** Whether two payloads (JSON text, or null) are the same JSON value. */
    private static boolean samePayload(String kept, String given) {
        if (kept == null || given == null) {
            return Objects.equals(kept, given);
        }
        JsonNode a = ResponseSchemas.parse("payload", kept);
        JsonNode b = ResponseSchemas.parse("payload", given);
        return a.equals(b);
    }
}
