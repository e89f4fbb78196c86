package dev.substrate.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
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

/** {@code substrate runs list|show|events}: runs as the API sees them. */
@Command(
        name = "runs",
        mixinStandardHelpOptions = true,
        description = "Lists and shows runs through the HTTP API.",
        subcommands = {RunsCommand.ListRuns.class, RunsCommand.Show.class, RunsCommand.Events.class})
final class RunsCommand {

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists runs, newest update first.")
    static final class ListRuns implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Option(names = "--status", description = "queued, running, waiting, succeeded, failed, cancelled, timed_out")
        String status;

        @Option(names = "--project", description = "Only runs of this project.")
        String project;

        @Option(names = "--label", paramLabel = "KEY:VALUE", description = "Only runs with this label.")
        String label;

        @Mixin
        PageOptions page;

        @Override
        public Integer call() {
            Map<String, Object> query = new LinkedHashMap<>();
            query.put("status", status);
            query.put("project", project);
            query.put("label", label);
            page.addTo(query);
            JsonNode page = client.client().get("/v1/runs", query);
            client.print(spec.commandLine().getOut(), page, Table.runs(page.get("items")));
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Shows one run's state.")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(paramLabel = "RUN_ID")
        String runId;

        @Override
        public Integer call() {
            client.show(spec.commandLine().getOut(), "/v1/runs/" + runId);
            return 0;
        }
    }

    @Command(name = "events", mixinStandardHelpOptions = true, description = "Lists one run's applied events.")
    static final class Events implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(paramLabel = "RUN_ID")
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
