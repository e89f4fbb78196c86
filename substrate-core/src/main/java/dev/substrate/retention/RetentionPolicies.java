package dev.substrate.retention;

import dev.substrate.state.RoomState;
import dev.substrate.state.RunState;
import java.time.Instant;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The retention policies in force: what the fold asks, on the wall clock, whether a finished run or a closed room is
 * to be deleted; the first policy by id that deletes it is the one its deletion names.
 */
public final class RetentionPolicies {

    /** No policy: nothing is deleted (Substrate's default). */
    public static final RetentionPolicies NONE = new RetentionPolicies(List.of());

    /** The property of the fold's Kafka Streams configuration that carries the policies' source to its processors. */
    public static final String CONFIG = "substrate.retention.policies";

    private final List<RetentionPolicy> policies;

    private RetentionPolicies(List<RetentionPolicy> policies) {
        this.policies = policies;
    }

    /** The policies {@code policies}, ordered by id. */
    public static RetentionPolicies of(Collection<RetentionPolicy> policies) {
        return new RetentionPolicies(policies.stream()
                .sorted(Comparator.comparing(RetentionPolicy::id))
                .toList());
    }

    /** Every policy, by id. */
    public List<RetentionPolicy> all() {
        return policies;
    }

    /** Whether an enabled policy applies to {@code applies}: if not, the fold need not look. */
    public boolean any(RetentionPolicy.Applies applies) {
        return policies.stream().anyMatch(policy -> policy.enabled() && policy.applies() == applies);
    }

    /** The enabled policy that deletes {@code run} at {@code now}, if any. */
    public Optional<RetentionPolicy> deleting(RunState run, Instant now) {
        return policies.stream().filter(policy -> policy.deletes(run, now)).findFirst();
    }

    /** The enabled policy that deletes {@code room} at {@code now}, if any. */
    public Optional<RetentionPolicy> deleting(RoomState room, Instant now) {
        return policies.stream().filter(policy -> policy.deletes(room, now)).findFirst();
    }
}
