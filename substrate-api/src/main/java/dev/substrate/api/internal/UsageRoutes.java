package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.api.auth.Principal;
import dev.substrate.entity.EntityKind;
import dev.substrate.event.EventValidator;
import dev.substrate.fold.UsageTotals;
import dev.substrate.state.UsageTotal;
import dev.substrate.streams.StateQueries;
import dev.substrate.streams.UsageQuery;
import io.javalin.http.Context;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code GET /v1/usage}: the tokens and cost that run and room events carried, summed over every instance's
 * partitions of the run-usage and room-usage stores and grouped by project, model, run or day. A scoped caller's sums
 * hold only its projects.
 */
final class UsageRoutes {

    /** What {@code GET /v1/usage} takes. */
    static final Params PARAMS =
            Params.read("groupBy", "project", "from", "to", "priceVersion").repeatable("runId");

    /** The most runs one usage question may name (a run and its descendants, say). */
    static final int MAX_RUN_IDS = 1_000;

    private static final List<EntityKind<?, ?>> KINDS = List.of(EntityKind.RUN, EntityKind.ROOM);

    private final Lists lists;
    private final Reads reads;
    private final long budget;
    private final PriceTable prices;

    UsageRoutes(Lists lists, Reads reads, long budget, PriceTable prices) {
        this.lists = lists;
        this.reads = reads;
        this.budget = budget;
        this.prices = prices;
    }

    /**
     * GET /v1/usage?groupBy=project|model|run|day&project=&from=&to=&runId=&priceVersion=: {@code {"groupBy": ...,
     * "groups": [{"key", "events", "inputTokens", "outputTokens", "cachedInputTokens", "reasoningTokens", "cost",
     * "costs", "unpricedEvents"}], "total": {...}, "priceVersion": n}}, groups in key order. Days are UTC dates of the
     * events, {@code from} and {@code to} included. Events that said no cost are priced by the price table's version
     * {@code priceVersion} (the latest when not asked), per model.
     */
    void usage(Context ctx) throws Exception {
        Principal principal = Requests.principal(ctx);
        // Every instance prices with the version asked for (by the instance that gathers: its latest).
        PriceTable.Version table = priceVersion(ctx);
        UsageQuery query = new UsageQuery(
                ctx.queryParam("project"),
                project -> Access.mayReadUsage(principal, project),
                day(ctx, "from"),
                day(ctx, "to"),
                runIds(ctx),
                groupBy(ctx),
                table == null ? null : table::price);
        if (query.fromDay() != null && query.toDay() != null && query.fromDay().compareTo(query.toDay()) > 0) {
            throw Problem.badRequest("from (" + query.fromDay() + ") is after to (" + query.toDay() + ")", "from");
        }
        String alsoAsk =
                table == null || ctx.queryParam("priceVersion") != null ? "" : "priceVersion=" + table.version();
        lists.gather(ctx, KINDS, alsoAsk, () -> part(query), parts -> {
            ObjectNode answer = answer(parts, query.groupBy());
            if (table == null) {
                answer.putNull("priceVersion");
            } else {
                answer.put("priceVersion", table.version());
            }
            ctx.header(Lists.SCANNED, answer.remove("scanned").asText());
            return answer;
        });
    }

    /** This instance's sums, one part per kind. */
    private ObjectNode part(UsageQuery query) {
        ObjectNode part = JsonNodeFactory.instance.objectNode();
        for (EntityKind<?, ?> kind : KINDS) {
            UsageQuery.Sums sums;
            try {
                sums = reads.queries().usage(kind, query, budget);
            } catch (StateQueries.TooMuchToCount e) {
                throw Problem.ofStatus(422, "Usage query too large", e.getMessage());
            }
            ObjectNode of = part.putObject(kind.name());
            ObjectNode groups = of.putObject("groups");
            sums.groups().forEach((key, total) -> groups.set(key, AvroJson.toJson(total)));
            of.put("scanned", sums.scanned());
            ArrayNode partitions = of.putArray("partitions");
            sums.partitions().stream().sorted().forEach(partitions::add);
        }
        return part;
    }

    /** Every instance's parts summed into the answer. */
    private static ObjectNode answer(List<JsonNode> parts, UsageQuery.GroupBy groupBy) {
        Map<String, UsageTotal> sums = new TreeMap<>();
        long scanned = 0;
        for (JsonNode part : parts) {
            for (EntityKind<?, ?> kind : KINDS) {
                JsonNode of = part.path(kind.name());
                scanned += of.path("scanned").asLong();
                of.path("groups")
                        .properties()
                        .forEach(group -> sums.merge(
                                group.getKey(),
                                (UsageTotal) AvroJson.fromJson(group.getValue(), UsageTotal.getClassSchema(), ""),
                                UsageTotals::plus));
            }
        }
        ObjectNode answer = JsonNodeFactory.instance.objectNode();
        answer.put("groupBy", groupBy.name().toLowerCase(Locale.ROOT));
        ArrayNode groups = answer.putArray("groups");
        UsageTotal total = null;
        for (Map.Entry<String, UsageTotal> sum : sums.entrySet()) {
            ObjectNode group = groups.addObject();
            group.put("key", sum.getKey());
            if (groupBy == UsageQuery.GroupBy.MODEL && sum.getValue().getProvider() != null) {
                group.put("provider", sum.getValue().getProvider());
            }
            figures(group, sum.getValue());
            total = total == null ? sum.getValue() : UsageTotals.plus(total, sum.getValue());
        }
        figures(answer.putObject("total"), total);
        answer.put("scanned", scanned);
        return answer;
    }

    /**
     * A sum's figures: tokens, the number of events, {@code cost} ({@code {"amount", "currency"}} with the amount as
     * exact decimal text, null when no event said one, or when they said several currencies) and {@code costs} (one
     * per currency).
     */
    static void figures(ObjectNode into, UsageTotal total) {
        into.put("events", total == null ? 0 : total.getEvents());
        into.put("inputTokens", total == null ? 0 : total.getInputTokens());
        into.put("outputTokens", total == null ? 0 : total.getOutputTokens());
        into.put("cachedInputTokens", total == null ? 0 : total.getCachedInputTokens());
        into.put("reasoningTokens", total == null ? 0 : total.getReasoningTokens());
        into.put("unpricedEvents", total == null ? 0 : total.getUnpricedEvents());
        ArrayNode costs = JsonNodeFactory.instance.arrayNode();
        if (total != null) {
            new TreeMap<>(total.getCost())
                    .forEach((currency, amount) -> costs.addObject()
                            .put("amount", new BigDecimal(amount).toPlainString())
                            .put("currency", currency));
        }
        if (costs.size() == 1) {
            into.set("cost", costs.get(0).deepCopy());
        } else {
            into.putNull("cost");
        }
        into.set("costs", costs);
    }

    /**
     * The price table version to price with: {@code priceVersion} when given (a forwarded request carries the gathering
     * instance's; 503 while this instance has not read it yet), else the latest; null when none was set.
     */
    private PriceTable.Version priceVersion(Context ctx) {
        String asked = ctx.queryParam("priceVersion");
        if (asked == null) {
            return prices.latest().orElse(null);
        }
        long version;
        try {
            version = Long.parseLong(asked);
        } catch (NumberFormatException e) {
            throw Problem.badRequest("priceVersion must be a version of the price table", "priceVersion");
        }
        return prices.version(version)
                .orElseThrow(() -> Cluster.isForwarded(ctx)
                        ? Problem.unavailable("this instance has not read price table version " + version + " yet")
                        : Problem.badRequest("the price table has no version " + version, "priceVersion"));
    }

    private static UsageQuery.GroupBy groupBy(Context ctx) {
        String groupBy = ctx.queryParam("groupBy");
        if (groupBy == null) {
            return UsageQuery.GroupBy.PROJECT;
        }
        try {
            return UsageQuery.GroupBy.valueOf(groupBy.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw Problem.badRequest("groupBy must be one of project, model, run, day", "groupBy");
        }
    }

    private static String day(Context ctx, String name) {
        String day = ctx.queryParam(name);
        if (day == null) {
            return null;
        }
        try {
            return LocalDate.parse(day).toString();
        } catch (DateTimeParseException e) {
            throw Problem.badRequest(name + " must be a UTC date, yyyy-MM-dd, such as 2026-12-01", name);
        }
    }

    /** The runs asked for ({@code runId}, repeatable: a run and its child runs sum together), or null for any. */
    private static Set<String> runIds(Context ctx) {
        List<String> runIds = ctx.queryParams("runId");
        if (runIds.isEmpty()) {
            return null;
        }
        if (runIds.size() > MAX_RUN_IDS) {
            throw Problem.badRequest("at most " + MAX_RUN_IDS + " runId parameters", "runId");
        }
        for (String runId : runIds) {
            if (!EventValidator.ID.matcher(runId).matches()) {
                throw Problem.badRequest("runId must be 1-128 of A-Z a-z 0-9 . _ : -", "runId");
            }
        }
        return Set.copyOf(runIds);
    }
}
