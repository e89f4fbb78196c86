package dev.substrate.webhook;

import java.util.List;

/**
 * The notifications a webhook subscription may ask for, as the fold names them on the notifications topic and in
 * each delivery's {@code type}.
 */
public final class WebhookEvents {

    /** A run stopped to wait, or raised more interrupts while waiting. */
    public static final String RUN_WAITING = "run.waiting";

    /** One of a run's interrupts was answered (resolved or cancelled). */
    public static final String RUN_INTERRUPT_ANSWERED = "run.interrupt.answered";

    /** A run succeeded. */
    public static final String RUN_SUCCEEDED = "run.succeeded";

    /** A run failed. */
    public static final String RUN_FAILED = "run.failed";

    /** A run was cancelled. */
    public static final String RUN_CANCELLED = "run.cancelled";

    /** A run ran out of time. */
    public static final String RUN_TIMED_OUT = "run.timed_out";

    /** A room was closed. */
    public static final String ROOM_CLOSED = "room.closed";

    /** Every one, in this order. */
    public static final List<String> ALL = List.of(
            RUN_WAITING, RUN_INTERRUPT_ANSWERED, RUN_SUCCEEDED, RUN_FAILED, RUN_CANCELLED, RUN_TIMED_OUT, ROOM_CLOSED);

    private WebhookEvents() {}
}
