package dev.substrate.config;

import java.util.List;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;

/** Reads of the fold's state: how far a standby may lag, and how much one list or count may look at. */
public final class QuerySettings {

    /** How far behind its log a standby replica may be and still answer a key lookup while the active moves. */
    public static final Setting<Long> STANDBY_MAX_LAG = Setting.number(
            "query.standby.max.lag",
            10_000L,
            Range.atLeast(-1),
            Importance.LOW,
            "While the instance that holds a key is gone or moving, a standby replica of its state answers the "
                    + "key's lookup if it is at most this many records behind its changelog (marked with "
                    + "`X-Substrate-Standby-Lag`); -1 never. Standbys exist when the Kafka Streams setting "
                    + "`num.standby.replicas` is 1 or more.");

    /** The most store entries one list request looks at per partition. */
    public static final Setting<Integer> SCAN_BUDGET = Setting.integer(
            "query.scan.budget",
            5_000,
            Range.between(10, 10_000_000),
            Importance.LOW,
            "The most store entries one list request looks at in each partition: a filter few entries pass "
                    + "(a non-member's room list, `parentRunId`) answers with what it found and a `nextCursor` "
                    + "to go on from, maybe with fewer items than `limit`, instead of scanning a whole store.");

    /** The most index entries one count request looks at on one instance. */
    public static final Setting<Integer> COUNT_BUDGET = Setting.integer(
            "query.count.budget",
            2_000_000,
            Range.between(10, Integer.MAX_VALUE),
            Importance.LOW,
            "The most index entries one `GET /v1/runs/counts` looks at on one instance (each entry is one run "
                    + "read): a count that would look at more answers 422 and asks for narrower filters, rather "
                    + "than hold a request thread for minutes.");

    /** Every setting of this component. */
    static final List<Setting<?>> ALL = List.of(STANDBY_MAX_LAG, SCAN_BUDGET, COUNT_BUDGET);

    private QuerySettings() {}
}
