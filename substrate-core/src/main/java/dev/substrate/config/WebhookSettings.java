package dev.substrate.config;

import java.time.Duration;
import java.util.List;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;

/** Webhooks: whom they may reach, how they are retried, and how much each subscription may have in flight. */
public final class WebhookSettings {

    /** Whether webhook URLs may point at loopback, link-local and private addresses. */
    public static final Setting<Boolean> ALLOW_PRIVATE = Setting.of(
            "webhooks.allow.private",
            Type.BOOLEAN,
            false,
            null,
            Importance.MEDIUM,
            "Whether a webhook may be delivered to a loopback, link-local, private or unique-local address (or a "
                    + "name that resolves to one). Off: such URLs are refused when subscribed and again at each "
                    + "delivery, so that a subscription cannot reach the services beside Substrate.",
            (value, config) -> (Boolean) value);

    /** How many times one delivery is tried before it is dead-lettered. */
    public static final Setting<Integer> MAX_ATTEMPTS = Setting.integer(
            "webhooks.max.attempts",
            8,
            Range.between(1, 100),
            Importance.LOW,
            "How many times one message is sent to a subscription before it is dead-lettered (a record on the "
                    + "webhook-deliveries topic, and the subscription's status); a 2xx answer ends it.");

    /** The wait before the first retry; each next one doubles it, with jitter, up to the most. */
    public static final Setting<Duration> RETRY_INITIAL = Setting.millis(
            "webhooks.retry.initial.ms",
            1_000L,
            Range.between(1, 3_600_000),
            Importance.LOW,
            "The wait before a failed delivery is tried again; each next wait doubles, with full jitter, up to "
                    + "`webhooks.retry.max.ms`.");

    /** The longest wait between two tries. */
    public static final Setting<Duration> RETRY_MAX = Setting.millis(
            "webhooks.retry.max.ms",
            300_000L,
            Range.between(1, 86_400_000),
            Importance.LOW,
            "The longest wait between two tries of one delivery.");

    /** How long one delivery waits for its answer. */
    public static final Setting<Duration> TIMEOUT = Setting.millis(
            "webhooks.timeout.ms",
            10_000L,
            Range.between(100, 120_000),
            Importance.LOW,
            "How long one try waits to connect and for the receiver's answer; a receiver that never answers is a "
                    + "failed try.");

    /** How many messages one subscription may have waiting or being tried on one instance. */
    public static final Setting<Integer> MAX_IN_FLIGHT = Setting.integer(
            "webhooks.max.in.flight",
            1_000,
            Range.between(1, 1_000_000),
            Importance.LOW,
            "Messages one subscription may have waiting or being tried on one instance; past it the instance stops "
                    + "reading notifications until the subscription catches up. When the delivering instance dies, "
                    + "these (and what it delivered in its last 200 ms) are sent again by another.");

    /** Every setting of this component. */
    static final List<Setting<?>> ALL =
            List.of(ALLOW_PRIVATE, MAX_ATTEMPTS, RETRY_INITIAL, RETRY_MAX, TIMEOUT, MAX_IN_FLIGHT);

    private WebhookSettings() {}
}
