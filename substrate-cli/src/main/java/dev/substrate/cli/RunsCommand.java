package dev.substrate.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code substrate runs list|count|show|events|cancel|resume|label|append}: runs as the API sees them. */
@Command(
        name = "runs",
        mixinStandardHelpOptions = true,
        description = "Lists, counts and shows runs, and acts on them, through the HTTP API.",
        footer = {
            "  substrate runs list --status waiting --waiting-on approval",
            "  substrate runs resume RUN_ID --detail 'approved: looks good'"
        },
        subcommands = {
            RunsCommand.ListRuns.class,
            RunsCommand.Count.class,
            RunsCommand.Show.class,
            RunsCommand.Events.class,
            RunsCommand.Cancel.class,
            RunsCommand.Resume.class,
            RunsCommand.Label.class,
            RunsCommand.Append.class
        })
final class RunsCommand {

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = {
                "Lists runs, newest update first; every filter given must hold.",
                "With --order created, newest creation first."
            },
            footer = {
                "  substrate runs list --status running,waiting --project project:acme/web",
                "  substrate runs list --label task:T-1 --created-after 30m",
                "  substrate runs list --failure-code E_TIMEOUT --retryable true --json"
            })
    static final class ListRuns implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Mixin
        RunFilterOptions filters;

        @Option(
                names = "--order",
                paramLabel = "updated|created",
                description = "What newest means (default: updated).")
        String order;

        @Mixin
        PageOptions page;

        @Override
        public Integer call() {
            Map<String, Object> query = new LinkedHashMap<>();
            filters.addTo(query, Clock.systemUTC());
            query.put("order", order);
            page.addTo(query);
            JsonNode page = client.client().get("/v1/runs", query);
            client.print(spec.commandLine().getOut(), page, Table.runs(page.get("items")));
            return 0;
        }
    }

    @Command(
            name = "count",
            mixinStandardHelpOptions = true,
            description = "Counts runs by status, project or surface, with the same filters as list.",
            footer = {
                "  substrate runs count",
                "  substrate runs count --group-by project --status failed --updated-after 24h"
            })
    static final class Count implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Mixin
        RunFilterOptions filters;

        @Option(
                names = "--group-by",
                defaultValue = "status",
                paramLabel = "status|project|surface",
                description = "What to count by (default: ${DEFAULT-VALUE}).")
        String by;

        @Override
        public Integer call() {
            Map<String, Object> query = new LinkedHashMap<>();
            query.put("groupBy", by);
            filters.addTo(query, Clock.systemUTC());
            JsonNode counts = client.client().get("/v1/runs/counts", query);
            Table table = new Table(by.toUpperCase(java.util.Locale.ROOT), "RUNS");
            counts.path("counts")
                    .properties()
                    .forEach(group -> table.row(group.getKey(), group.getValue().asText()));
            table.row("total", counts.path("total").asText());
            client.print(spec.commandLine().getOut(), counts, table);
            return 0;
        }
    }

    @Command(
            name = "cancel",
            mixinStandardHelpOptions = true,
            description = "Cancels a run that has not finished (appends RunCancelled under your principal).",
            footer = {
                "  substrate runs cancel RUN_ID --reason 'superseded by a newer deploy'",
                "  substrate runs cancel RUN_ID --wait"
            })
    static final class Cancel implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        AppendOptions append;

        @Parameters(paramLabel = "RUN_ID", description = "The run to cancel.")
        String runId;

        @Option(names = "--reason", description = "Why, as the event records it.")
        String reason;

        @Override
        public Integer call() {
            ObjectNode event = JsonNodeFactory.instance.objectNode().put("type", "RunCancelled");
            if (reason != null) {
                event.put("reason", reason);
            }
            return append.append(spec.commandLine().getOut(), "runs", runId, event);
        }
    }

    @Command(
            name = "resume",
            mixinStandardHelpOptions = true,
            description = "Resumes a waiting run, such as one waiting on your approval (appends RunResumed).",
            footer = {"  substrate runs resume RUN_ID --detail 'approved: looks good' --wait"})
    static final class Resume implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        AppendOptions append;

        @Parameters(paramLabel = "RUN_ID", description = "The waiting run.")
        String runId;

        @Option(names = "--detail", description = "Why it resumes, such as 'approved: looks good'.")
        String detail;

        @Override
        public Integer call() {
            ObjectNode event = JsonNodeFactory.instance.objectNode().put("type", "RunResumed");
            if (detail != null) {
                event.put("detail", detail);
            }
            return append.append(spec.commandLine().getOut(), "runs", runId, event);
        }
    }

    @Command(
            name = "label",
            mixinStandardHelpOptions = true,
            description = "Sets and removes a run's labels (appends RunLabelled).",
            footer = {
                "  substrate runs label RUN_ID --set team:web --set tier:1",
                "  substrate runs label RUN_ID --remove tier"
            })
    static final class Label implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        AppendOptions append;

        @Parameters(paramLabel = "RUN_ID", description = "The run to label.")
        String runId;

        @Option(names = "--set", paramLabel = "KEY:VALUE", description = "A label to set; repeatable.")
        List<String> set = List.of();

        @Option(names = "--remove", paramLabel = "KEY", description = "A label key to remove; repeatable.")
        List<String> remove = List.of();

        @Override
        public Integer call() {
            if (set.isEmpty() && remove.isEmpty()) {
                throw new picocli.CommandLine.ParameterException(
                        spec.commandLine(), "Say what to change: --set KEY:VALUE or --remove KEY");
            }
            ObjectNode event = JsonNodeFactory.instance.objectNode().put("type", "RunLabelled");
            ObjectNode labels = event.putObject("labels");
            Labels.parse(spec, "--set", set).forEach(labels::put);
            ArrayNode removed = event.putArray("removed");
            remove.forEach(removed::add);
            return append.append(spec.commandLine().getOut(), "runs", runId, event);
        }
    }

    @Command(
            name = "append",
            mixinStandardHelpOptions = true,
            description = {
                "Appends any run event, given as JSON.",
                "The event's own fields, as POST /v1/runs/{runId}/events takes them, such as {\"type\":"
                        + " \"RunStarted\"}."
            },
            footer = {
                "  substrate runs append RUN_ID '{\"type\": \"RunStarted\"}' --wait",
                "  echo '{\"type\": \"RunSucceeded\"}' | substrate runs append RUN_ID -"
            })
    static final class Append implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        AppendOptions append;

        @Parameters(index = "0", paramLabel = "RUN_ID", description = "The run.")
        String runId;

        @Parameters(
                index = "1",
                paramLabel = "EVENT",
                description = "The event as a JSON object; - reads it from stdin.")
        String event;

        @Override
        public Integer call() {
            return append.append(
                    spec.commandLine().getOut(), "runs", runId, AppendOptions.event(spec.commandLine(), event));
        }
    }

    @Command(
            name = "show",
            mixinStandardHelpOptions = true,
            description = "Shows one run's state.",
            footer = {"  substrate runs show RUN_ID", "  substrate runs show RUN_ID --json"})
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(paramLabel = "RUN_ID", description = "The run.")
        String runId;

        @Override
        public Integer call() {
            client.show(spec.commandLine().getOut(), "/v1/runs/" + runId);
            return 0;
        }
    }

    @Command(
            name = "events",
            mixinStandardHelpOptions = true,
            description = "Lists one run's applied events, oldest first.",
            footer = {"  substrate runs events RUN_ID --json"})
    static final class Events implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(paramLabel = "RUN_ID", description = "The run.")
        String runId;

        @Override
        public Integer call() {
            // Every page of the history, as one answer.
            ObjectNode events = JsonNodeFactory.instance.objectNode();
            ArrayNode all = events.putArray("items");
            long after = 0;
            while (true) {
                JsonNode page = client.client()
                        .get("/v1/runs/" + runId + "/events", Map.of("after", Long.toString(after), "limit", "1000"));
                page.path("items").forEach(all::add);
                if (!page.hasNonNull("next")) {
                    break;
                }
                after = page.get("next").asLong();
            }
            client.print(
                    spec.commandLine().getOut(),
                    events,
                    Table.of(
                            events.get("items"),
                            List.of("OCCURRED AT", "TYPE", "ACTOR", "EVENT ID"),
                            event -> event.get("occurredAt").asText(),
                            event -> event.path("payload").path("type").asText(),
                            event -> Table.text(event.get("actor")),
                            event -> event.get("eventId").asText()));
            return 0;
        }
    }
}
