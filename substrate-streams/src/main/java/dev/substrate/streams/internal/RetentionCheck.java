package dev.substrate.streams.internal;

import dev.substrate.retention.RetentionPolicies;
import dev.substrate.retention.RetentionPolicy;
import dev.substrate.streams.SubstrateFold;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the run and room folds share to apply the retention policies: on the wall clock, each task walks its index of
 * finished runs (or closed rooms) up to the youngest age a policy deletes at, and appends to the entity's log the
 * deletion of each that an enabled policy deletes, at most {@link #MAX_PER_CHECK} per check (so one transaction
 * stays small; the rest go at the next check). The entity goes when the fold reads that event back. Until then its
 * id is pending here, so a second check does not append it again (after a restart it may: the deletion's id is
 * derived from the entity, and the second append is a duplicate).
 */
final class RetentionCheck {

    private static final Logger log = LoggerFactory.getLogger(RetentionCheck.class);

    /** The most deletions one task appends in one check. */
    static final int MAX_PER_CHECK = 1_000;

    private final Supplier<RetentionPolicies> policies;
    /** How long an appended deletion not yet read back keeps its entity from being appended again. */
    static final Duration PENDING = Duration.ofMinutes(1);

    private final Map<String, Instant> pending = new HashMap<>();

    /** The check of the policies the fold's configuration carries; none when it carries none (a rebuild). */
    @SuppressWarnings("unchecked")
    RetentionCheck(ProcessorContext<?, ?> context) {
        Object given = context.appConfigs().get(RetentionPolicies.CONFIG);
        this.policies = given instanceof Supplier<?> supplier
                ? (Supplier<RetentionPolicies>) supplier
                : () -> RetentionPolicies.NONE;
    }

    /** Calls {@code check} with the wall-clock time at the configured interval, when policies are given. */
    void schedule(ProcessorContext<?, ?> context, Consumer<Instant> check) {
        if (!context.appConfigs().containsKey(RetentionPolicies.CONFIG)) {
            return;
        }
        Object interval = context.appConfigs().get(SubstrateFold.RETENTION_CHECK_INTERVAL);
        Duration every = interval instanceof Duration duration ? duration : Duration.ofMinutes(1);
        context.schedule(every, PunctuationType.WALL_CLOCK_TIME, time -> check.accept(Instant.ofEpochMilli(time)));
    }

    /** Logs what one check of {@code task} did, when it appended anything. */
    static void report(Object task, String what, int appended, int read, long startedNanos) {
        if (appended > 0) {
            log.info(
                    "Task {}: retention appended the deletion of {} {} ({} index entries read) in {} ms",
                    task,
                    appended,
                    what,
                    read,
                    (System.nanoTime() - startedNanos) / 1_000_000);
        }
    }

    /** The policies in force now. */
    RetentionPolicies policies() {
        return policies.get();
    }

    /**
     * The latest time an entity may have changed (or closed) and still be deleted by a policy of {@code applies} at
     * {@code now}: now less the youngest such policy's age; null when no enabled policy applies.
     */
    Instant cutoff(RetentionPolicy.Applies applies, Instant now) {
        return policies.get().all().stream()
                .filter(policy -> policy.enabled() && policy.applies() == applies)
                .map(RetentionPolicy::olderThan)
                .min(Duration::compareTo)
                .map(now::minus)
                .orElse(null);
    }

    /**
     * Marks {@code id}'s deletion appended at {@code now}; false when it was within {@link #PENDING} and is not yet
     * read back (a deletion the fold refused, or lost with a transaction, is appended again after that).
     */
    boolean append(String id, Instant now) {
        Instant appended = pending.get(id);
        if (appended != null && appended.plus(PENDING).isAfter(now)) {
            return false;
        }
        if (pending.size() >= MAX_PER_CHECK * 4) {
            pending.values().removeIf(at -> !at.plus(PENDING).isAfter(now));
        }
        pending.put(id, now);
        return true;
    }

    /** The entity is gone (its deletion read back): no longer pending. */
    void deleted(String id) {
        pending.remove(id);
    }
}
