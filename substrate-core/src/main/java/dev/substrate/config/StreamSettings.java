package dev.substrate.config;

import java.time.Duration;
import java.util.List;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;

/** Room streams (SSE and the other live views): heartbeats, how many at once, and how much each may buffer. */
public final class StreamSettings {

    /** How often an idle room stream (SSE) sends a heartbeat. */
    public static final Setting<Duration> HEARTBEAT = Setting.millis(
            "stream.heartbeat.ms",
            15_000L,
            Range.between(100, 3_600_000),
            Importance.LOW,
            "How often `GET /v1/rooms/{id}/stream` sends a heartbeat comment while the room is quiet, so that "
                    + "proxies keep the connection and a client that left is noticed.");

    /** How many room streams (SSE) one instance serves at once. */
    public static final Setting<Integer> MAX_CLIENTS = Setting.integer(
            "stream.max.clients",
            2_000,
            Range.between(1, 100_000),
            Importance.LOW,
            "Room streams (SSE) one instance serves at once; one more is refused with 503 and `Retry-After`. "
                    + "Each holds a thread and up to 1024 buffered events.");

    /** How many room streams (SSE) one principal may have open on one instance. */
    public static final Setting<Integer> MAX_CLIENTS_PER_PRINCIPAL = Setting.integer(
            "stream.max.clients.per.principal",
            100,
            Range.between(1, 100_000),
            Importance.LOW,
            "Room streams (SSE) one principal may have open on one instance; one more is refused with 429 and "
                    + "`Retry-After`, so that one token cannot take every slot of `stream.max.clients`.");

    /** How many bytes of events one room stream client may have buffered before it is ended as slow. */
    public static final Setting<Long> MAX_BUFFERED_BYTES = Setting.number(
                    "stream.max.buffered.bytes",
                    16L * 1024 * 1024,
                    Range.atLeast(64 * 1024),
                    Importance.LOW,
                    "Bytes of events one room stream client may have waiting to be written before it is ended with "
                            + "reason `slow-consumer` (it resumes from its last id); at least twice `max.event.bytes` "
                            + "is used.")
            .derived((value, config) -> Math.max(value, 2L * config.get(EventSettings.MAX_EVENT_BYTES)));

    /** How many bytes of events all room streams of one token may have buffered on one instance. */
    public static final Setting<Long> MAX_BUFFERED_BYTES_PER_PRINCIPAL = Setting.number(
                    "stream.max.buffered.bytes.per.principal",
                    64L * 1024 * 1024,
                    Range.atLeast(64 * 1024),
                    Importance.LOW,
                    "Bytes of events all room streams of one token may have waiting to be written on one instance; a "
                            + "stream that would pass it is ended with reason `slow-consumer` (it resumes from its last "
                            + "id), so that many slow readers of one token cannot take the heap.")
            .derived((value, config) -> Math.max(value, 2L * config.get(EventSettings.MAX_EVENT_BYTES)));

    /** How long a Durable Streams long poll waits for a room's next event. */
    public static final Setting<Duration> LONG_POLL = Setting.millis(
            "stream.long.poll.ms",
            20_000L,
            Range.between(100, 300_000),
            Importance.LOW,
            "How long a long poll of `GET /v1/rooms/{id}/ds?live=long-poll` waits for the room's next event before "
                    + "it answers 204; keep it below `http.idle.timeout.ms`.");

    /** Every setting of this component. */
    static final List<Setting<?>> ALL = List.of(
            HEARTBEAT,
            MAX_CLIENTS,
            MAX_CLIENTS_PER_PRINCIPAL,
            MAX_BUFFERED_BYTES,
            MAX_BUFFERED_BYTES_PER_PRINCIPAL,
            LONG_POLL);

    private StreamSettings() {}
}
