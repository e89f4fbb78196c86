package dev.substrate.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code substrate usage}: tokens and cost by project, model, run or day ({@code GET /v1/usage}). */
@Command(
        name = "usage",
        mixinStandardHelpOptions = true,
        description = "Shows the tokens and cost that run and room events carried, grouped by project, model, run or"
                + " day (UTC), over every instance.",
        footer = {
            "  substrate usage",
            "  substrate usage --group-by model --project project:acme/web --days 7",
            "  substrate usage --group-by day --run r-123 --json",
            "  substrate usage --group-by run --run r-123 --with-children"
        })
final class UsageCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Option(
            names = "--group-by",
            defaultValue = "project",
            paramLabel = "project|model|run|day",
            description = "What to sum by (default: ${DEFAULT-VALUE}).")
    String by;

    @Option(names = "--project", paramLabel = "PROJECT", description = "Only this project.")
    String project;

    @Option(names = "--run", paramLabel = "RUN_ID", description = "Only this run (its events and its session's).")
    String runId;

    @Option(
            names = "--with-children",
            description = "With --run: the run and every run under it (child runs, theirs, ...; at most 1000), summed"
                    + " together.")
    boolean withChildren;

    @Option(names = "--from", paramLabel = "YYYY-MM-DD", description = "The first UTC day counted.")
    String from;

    @Option(names = "--to", paramLabel = "YYYY-MM-DD", description = "The last UTC day counted (included).")
    String to;

    @Option(
            names = "--days",
            paramLabel = "N",
            description = "The last N UTC days, today included (instead of --from).")
    Integer days;

    @Override
    public Integer call() {
        Map<String, Object> query = new LinkedHashMap<>();
        query.put("groupBy", by);
        put(query, "project", project);
        if (withChildren && runId == null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--with-children needs --run");
        }
        if (runId != null) {
            query.put("runId", withChildren ? tree(runId) : List.of(runId));
        }
        if (days != null) {
            if (days < 1) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--days must be 1 or more");
            }
            put(
                    query,
                    "from",
                    LocalDate.now(Clock.systemUTC().withZone(ZoneOffset.UTC))
                            .minusDays(days - 1L)
                            .toString());
        } else {
            put(query, "from", from);
        }
        put(query, "to", to);
        JsonNode usage = client.client().get("/v1/usage", query);
        Table table =
                new Table(by.toUpperCase(Locale.ROOT), "EVENTS", "INPUT", "OUTPUT", "CACHED", "REASONING", "COST");
        usage.path("groups")
                .forEach(group -> row(
                        table,
                        group.path("key").asText().isEmpty()
                                ? "(none)"
                                : group.path("key").asText(),
                        group));
        row(table, "total", usage.path("total"));
        client.print(spec.commandLine().getOut(), usage, table);
        if (!client.json && !usage.path("priceVersion").isNull()) {
            spec.commandLine()
                    .getOut()
                    .printf(
                            "Events that said no cost are priced by price table version %s.%n",
                            usage.path("priceVersion").asText());
            spec.commandLine().getOut().flush();
        }
        return 0;
    }

    /** {@code root} and the runs under it, level by level through {@code GET /v1/runs?parentRunId=}, at most 1000. */
    private List<String> tree(String root) {
        List<String> runs = new ArrayList<>(List.of(root));
        Deque<String> parents = new ArrayDeque<>(runs);
        while (!parents.isEmpty() && runs.size() < MAX_RUNS) {
            String parent = parents.poll();
            String cursor = null;
            do {
                Map<String, Object> page = new LinkedHashMap<>();
                page.put("parentRunId", parent);
                page.put("limit", 1000);
                if (cursor != null) {
                    page.put("cursor", cursor);
                }
                JsonNode children = client.client().get("/v1/runs", page);
                for (JsonNode child : children.path("items")) {
                    if (runs.size() < MAX_RUNS) {
                        runs.add(child.path("runId").asText());
                        parents.add(child.path("runId").asText());
                    }
                }
                cursor = children.path("nextCursor").isTextual()
                        ? children.path("nextCursor").asText()
                        : null;
            } while (cursor != null && runs.size() < MAX_RUNS);
        }
        return runs;
    }

    /** The most runs one usage question names (the API's bound). */
    private static final int MAX_RUNS = 1000;

    private static void row(Table table, String key, JsonNode figures) {
        StringBuilder cost = new StringBuilder();
        figures.path("costs")
                .forEach(each -> cost.append(cost.length() == 0 ? "" : " + ")
                        .append(each.path("amount").asText())
                        .append(' ')
                        .append(each.path("currency").asText()));
        table.row(
                key,
                figures.path("events").asText(),
                figures.path("inputTokens").asText(),
                figures.path("outputTokens").asText(),
                figures.path("cachedInputTokens").asText(),
                figures.path("reasoningTokens").asText(),
                cost.length() == 0 ? "-" : cost.toString());
    }

    private static void put(Map<String, Object> query, String name, String value) {
        if (value != null) {
            query.put(name, value);
        }
    }
}
