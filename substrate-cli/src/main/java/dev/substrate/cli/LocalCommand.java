package dev.substrate.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.api.EventJson;
import dev.substrate.event.EventIds;
import dev.substrate.event.InvalidEvent;
import dev.substrate.events.common.Correlation;
import dev.substrate.events.run.Activation;
import dev.substrate.events.run.ActivationSurface;
import dev.substrate.events.run.RunCreated;
import dev.substrate.events.run.RunEvent;
import dev.substrate.events.run.RunScope;
import dev.substrate.local.LocalRuns;
import dev.substrate.state.RunState;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code substrate local create|append|list|show|events}: runs in the local SQLite store, no server needed. */
@Command(
        name = "local",
        mixinStandardHelpOptions = true,
        description = {
            "Keeps runs in a local SQLite file: the substrate's events and rules, no Kafka.",
            "The file is ./.substrate/local.db unless --local-db or SUBSTRATE_LOCAL_DB says otherwise. Share a"
                    + " local run into the substrate later with substrate share RUN_ID."
        },
        footer = {
            "  RUN=$(substrate local create --label task:T-1)",
            "  substrate local append \"$RUN\" '{\"type\": \"RunStarted\"}'",
            "  substrate local list"
        },
        subcommands = {
            LocalCommand.Create.class,
            LocalCommand.Append.class,
            LocalCommand.ListRuns.class,
            LocalCommand.Show.class,
            LocalCommand.Events.class
        })
final class LocalCommand {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Command(
            name = "create",
            mixinStandardHelpOptions = true,
            description = "Creates a local run; prints its id.",
            footer = {"  substrate local create --project project:acme/web --label task:T-1"})
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        LocalStoreOptions store;

        @Option(names = "--run-id", paramLabel = "ID", description = "The run's id (default: a new one).")
        String runId;

        @Option(
                names = "--project",
                paramLabel = "P",
                description = "The ownership scope (default: local:<name of this directory>).")
        String project;

        @Option(names = "--task-id", paramLabel = "ID", description = "The task the run works on.")
        String taskId;

        @Option(names = "--label", paramLabel = "KEY:VALUE", description = "A label to set; repeatable.")
        List<String> labels = List.of();

        @Override
        public Integer call() {
            String id = runId != null ? runId : "run-" + EventIds.next();
            String actor = LocalStoreOptions.actor();
            RunEvent created = RunEvent.newBuilder()
                    .setEventId(EventIds.next())
                    .setRunId(id)
                    .setOccurredAt(Instant.now().truncatedTo(ChronoUnit.MILLIS))
                    .setActor(actor)
                    .setCorrelation(new Correlation(null, null, null))
                    .setPayload(RunCreated.newBuilder()
                            .setScope(RunScope.local)
                            .setProject(project != null ? project : defaultProject())
                            .setTaskId(taskId)
                            .setActivation(new Activation(ActivationSurface.operator, actor))
                            .setLabels(Labels.parse(spec, "--label", labels))
                            .build())
                    .build();
            try (LocalRuns runs = store.open()) {
                return report(spec, runs.append(created), id, false, true);
            }
        }
    }

    @Command(
            name = "append",
            mixinStandardHelpOptions = true,
            description = {
                "Appends an event to a local run, as JSON.",
                "The JSON POST /v1/runs/{id}/events takes. A refused event is kept with its reason; the exit code"
                        + " is then 1."
            },
            footer = {
                "  substrate local append RUN_ID '{\"type\": \"RunStarted\"}'",
                "  substrate local append RUN_ID '{\"type\": \"RunFailed\",",
                "      \"failure\": {\"code\": \"E_TEST\", \"message\": \"3 tests failed\"}}'"
            })
    static final class Append implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        LocalStoreOptions store;

        @Parameters(index = "0", paramLabel = "RUN_ID", description = "The local run.")
        String runId;

        @Parameters(index = "1", paramLabel = "JSON", description = "The event, such as {\"type\": \"RunStarted\"}.")
        String json;

        @Option(names = "--json", description = "Print the decision as JSON.")
        boolean asJson;

        @Override
        public Integer call() {
            JsonNode body;
            try {
                body = JSON.readTree(json);
            } catch (JsonProcessingException e) {
                throw new InvalidEvent("body", "is not valid JSON: " + e.getOriginalMessage());
            }
            if (body == null || !body.isObject()) {
                throw new InvalidEvent("body", "must be a JSON object");
            }
            String actor = body.hasNonNull("actor") ? body.get("actor").asText() : LocalStoreOptions.actor();
            RunEvent event = EventJson.runEvent((ObjectNode) body, runId, actor);
            try (LocalRuns runs = store.open()) {
                return report(spec, runs.append(event), runId, asJson, false);
            }
        }
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "Lists local runs, latest update first.",
            footer = {"  substrate local list", "  substrate local list --json"})
    static final class ListRuns implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        LocalStoreOptions store;

        @Option(names = "--json", description = "Print {\"items\": [...]} instead of a table.")
        boolean json;

        @Override
        public Integer call() {
            ObjectNode answer = JsonNodeFactory.instance.objectNode();
            ArrayNode items = answer.putArray("items");
            try (LocalRuns runs = store.open()) {
                runs.runs().forEach(run -> items.add(EventJson.json(run)));
            }
            print(spec.commandLine().getOut(), json, answer, Table.runs(items));
            return 0;
        }
    }

    @Command(
            name = "show",
            mixinStandardHelpOptions = true,
            description = "Shows one local run's state.",
            footer = {"  substrate local show RUN_ID"})
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        LocalStoreOptions store;

        @Parameters(paramLabel = "RUN_ID", description = "The local run.")
        String runId;

        @Option(names = "--json", description = "Print the run as JSON.")
        boolean json;

        @Override
        public Integer call() {
            RunState run;
            try (LocalRuns runs = store.open()) {
                run = runs.run(runId).orElse(null);
            }
            if (run == null) {
                return notFound(spec, runId, store.file());
            }
            JsonNode state = EventJson.json(run);
            print(spec.commandLine().getOut(), json, state, Table.fields(state));
            return 0;
        }
    }

    @Command(
            name = "events",
            mixinStandardHelpOptions = true,
            description = "Lists one local run's events, applied and refused, in append order.",
            footer = {"  substrate local events RUN_ID"})
    static final class Events implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        LocalStoreOptions store;

        @Parameters(paramLabel = "RUN_ID", description = "The local run.")
        String runId;

        @Option(names = "--json", description = "Print {\"items\": [...]} instead of a table.")
        boolean json;

        @Override
        public Integer call() {
            List<LocalRuns.Stored> events;
            try (LocalRuns runs = store.open()) {
                events = runs.events(runId);
            }
            if (events.isEmpty()) {
                return notFound(spec, runId, store.file());
            }
            ObjectNode answer = JsonNodeFactory.instance.objectNode();
            ArrayNode items = answer.putArray("items");
            for (LocalRuns.Stored stored : events) {
                ObjectNode item = EventJson.json(stored.event());
                item.put("outcome", stored.outcome().name().toLowerCase(java.util.Locale.ROOT));
                if (stored.reason() != null) {
                    item.put("reason", stored.reason());
                    item.put("message", stored.message());
                }
                items.add(item);
            }
            print(
                    spec.commandLine().getOut(),
                    json,
                    answer,
                    Table.of(
                            items,
                            List.of("OCCURRED AT", "TYPE", "ACTOR", "OUTCOME", "EVENT ID"),
                            event -> event.get("occurredAt").asText(),
                            event -> event.path("payload").path("type").asText(),
                            event -> Table.text(event.get("actor")),
                            event -> event.get("outcome").asText()
                                    + (event.has("reason")
                                            ? " (" + event.get("reason").asText() + ")"
                                            : ""),
                            event -> event.get("eventId").asText()));
            return 0;
        }
    }

    /** local:<this directory's name>, made of the characters a project may hold. */
    static String defaultProject() {
        Path dir = Path.of("").toAbsolutePath().getFileName();
        String name = dir == null ? "local" : dir.toString().replaceAll("[^A-Za-z0-9._/-]", "-");
        return "local:" + (name.isEmpty() ? "local" : name);
    }

    /** Prints an append's decision (the run id alone for a create); 0 unless it was refused. */
    private static int report(
            CommandSpec spec, LocalRuns.Appended appended, String runId, boolean json, boolean idOnly) {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (json) {
            ObjectNode answer = JsonNodeFactory.instance.objectNode();
            answer.put("runId", runId);
            answer.put("outcome", appended.outcome().name().toLowerCase(java.util.Locale.ROOT));
            if (appended.reason() != null) {
                answer.put("reason", appended.reason());
                answer.put("message", appended.message());
            }
            appended.run().ifPresent(run -> answer.set("state", EventJson.json(run)));
            out.println(answer);
        } else {
            switch (appended.outcome()) {
                case APPLIED ->
                    out.println(
                            idOnly
                                    ? runId
                                    : runId + ": "
                                            + appended.run()
                                                    .map(run -> run.getStatus() + ", version " + run.getVersion())
                                                    .orElse("deleted"));
                case DUPLICATE -> out.println(runId + " (already appended)");
                case REJECTED -> err.println("substrate: refused (" + appended.reason() + "): " + appended.message());
            }
        }
        out.flush();
        err.flush();
        return appended.outcome() == LocalRuns.Outcome.REJECTED ? 1 : 0;
    }

    private static int notFound(CommandSpec spec, String runId, Path file) {
        spec.commandLine().getErr().println("substrate: run " + runId + " is not in the local store " + file);
        spec.commandLine().getErr().flush();
        return 1;
    }

    private static void print(PrintWriter out, boolean json, JsonNode answer, Table table) {
        if (json) {
            try {
                out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(answer));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        } else {
            out.print(table.render());
        }
        out.flush();
    }
}
