package dev.substrate.streams.internal;

import dev.substrate.event.WireCodec;
import dev.substrate.events.room.RoomClosed;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.run.RunCancelled;
import dev.substrate.events.run.RunEvent;
import dev.substrate.events.run.RunFailed;
import dev.substrate.events.run.RunResumed;
import dev.substrate.events.run.RunSucceeded;
import dev.substrate.events.run.RunTimedOut;
import dev.substrate.events.run.RunWaiting;
import dev.substrate.state.RoomState;
import dev.substrate.state.RunState;
import dev.substrate.webhook.WebhookEvents;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * What the fold tells listeners outside of the decisions they may wait on: a record on the notifications topic, in
 * the fold's own transaction, for each applied event that makes a run wait, answers one of its interrupts, finishes
 * it, or closes a room. Keyed by the entity id (so in the entity's order), the value is the entity's state after the
 * event ({@link WireCodec}, whatever the logs' wire format), and the headers say what happened: {@value #TYPE} (such
 * as {@code run.waiting}), {@value #ENTITY} ({@code run} or {@code room}), {@value #EVENT_ID} (the applied event's
 * id, the notification's identity) and, for an answer, {@value #INTERRUPT}.
 */
final class Notifications {

    /**
     * The sinks' names in the topology: one for each processor, since one sink of both would join the run and the
     * room fold into one sub-topology (and change every task's stores).
     */
    static final String RUN_SINK = "run-notifications-sink";

    /** The room fold's sink; see {@link #RUN_SINK}. */
    static final String ROOM_SINK = "room-notifications-sink";

    /** The header naming the notification, such as {@code run.waiting}. */
    static final String TYPE = "substrate.type";

    /** The header naming the entity kind, {@code run} or {@code room}. */
    static final String ENTITY = "substrate.entity";

    /** The header holding the applied event's id. */
    static final String EVENT_ID = "substrate.event-id";

    /** The header holding the answered interrupt's id. */
    static final String INTERRUPT = "substrate.interrupt";

    private Notifications() {}

    /** The notification type of an applied run event, or null for one nobody is told of. */
    static String type(RunEvent event) {
        Object payload = event.getPayload();
        if (payload instanceof RunWaiting) {
            return WebhookEvents.RUN_WAITING;
        }
        if (payload instanceof RunResumed resumed) {
            return resumed.getAnswer() != null ? WebhookEvents.RUN_INTERRUPT_ANSWERED : null;
        }
        if (payload instanceof RunSucceeded) {
            return WebhookEvents.RUN_SUCCEEDED;
        }
        if (payload instanceof RunFailed) {
            return WebhookEvents.RUN_FAILED;
        }
        if (payload instanceof RunCancelled) {
            return WebhookEvents.RUN_CANCELLED;
        }
        if (payload instanceof RunTimedOut) {
            return WebhookEvents.RUN_TIMED_OUT;
        }
        return null;
    }

    /** Tells of {@code event}, applied to give {@code run}, if it is one listeners are told of. */
    static void run(ProcessorContext<String, byte[]> context, RunEvent event, RunState run, long timestamp) {
        String type = type(event);
        if (type == null) {
            return;
        }
        RecordHeaders headers = headers(type, "run", event.getEventId());
        if (event.getPayload() instanceof RunResumed resumed) {
            headers.add(INTERRUPT, bytes(resumed.getAnswer().getInterruptId()));
        }
        context.forward(new Record<>(run.getRunId(), WireCodec.RUN_STATE.encode(run), timestamp, headers), RUN_SINK);
    }

    /** Tells of {@code event}, applied to give {@code room}, if it closed the room. */
    static void room(ProcessorContext<String, byte[]> context, RoomEvent event, RoomState room, long timestamp) {
        if (!(event.getPayload() instanceof RoomClosed)) {
            return;
        }
        context.forward(
                new Record<>(
                        room.getRoomId(),
                        WireCodec.ROOM_STATE.encode(room),
                        timestamp,
                        headers(WebhookEvents.ROOM_CLOSED, "room", event.getEventId())),
                ROOM_SINK);
    }

    private static RecordHeaders headers(String type, String entity, String eventId) {
        RecordHeaders headers = new RecordHeaders();
        headers.add(TYPE, bytes(type));
        headers.add(ENTITY, bytes(entity));
        headers.add(EVENT_ID, bytes(eventId));
        return headers;
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
