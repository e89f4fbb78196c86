package dev.substrate.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.cli.internal.ApiClient;
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
            RunsCommand.Answer.class,
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
            name = "answer",
            mixinStandardHelpOptions = true,
            description = {
                "Answers one of a waiting run's interrupts (POST /v1/runs/{runId}/interrupts/{interruptId}/answer),"
                        + " and prints the fold's decision.",
                "The run resumes when its last open interrupt is answered; `runs show RUN_ID` lists them."
            },
            footer = {
                "  substrate runs answer RUN_ID approve-deploy --resolve --payload '{\"approved\": true}'",
                "  substrate runs answer RUN_ID ask-budget --cancel"
            },
            exitCodeListHeading = "%nExit codes:%n",
            exitCodeList = {
                "0:applied (or the same answer was given before)",
                "1:the API could not be reached or refused the request",
                "2:the command line is wrong (PAYLOAD is not JSON)",
                "3:the fold refused the answer: unknown, expired or already answered, or a payload the schema refuses",
                "4:not decided within --timeout-ms"
            })
    static final class Answer implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(index = "0", paramLabel = "RUN_ID", description = "The waiting run.")
        String runId;

        @Parameters(index = "1", paramLabel = "INTERRUPT_ID", description = "The interrupt to answer.")
        String interruptId;

        @picocli.CommandLine.ArgGroup(exclusive = true)
        How how;

        static final class How {
            @Option(names = "--resolve", description = "Give the answer asked for (the default).")
            boolean resolve;

            @Option(names = "--cancel", description = "Abandon the interrupt instead.")
            boolean cancel;
        }

        @Option(
                names = "--payload",
                paramLabel = "JSON",
                description = "The answer, any JSON value; checked against the interrupt's responseSchema.")
        String payload;

        @Option(names = "--answered-by", paramLabel = "NAME", description = "Who answered, when not your principal.")
        String answeredBy;

        @Option(
                names = "--timeout-ms",
                defaultValue = "5000",
                paramLabel = "MS",
                description = "How long to wait for the decision, 0 to 30000 (default: ${DEFAULT-VALUE}).")
        long timeoutMs;

        @Override
        public Integer call() {
            ObjectNode body = JsonNodeFactory.instance.objectNode();
            body.put("status", how != null && how.cancel ? "cancelled" : "resolved");
            if (payload != null) {
                try {
                    body.set("payload", new com.fasterxml.jackson.databind.ObjectMapper().readTree(payload));
                } catch (java.io.IOException e) {
                    throw new picocli.CommandLine.ParameterException(
                            spec.commandLine(), "--payload is not JSON: " + e.getMessage());
                }
            }
            if (answeredBy != null) {
                body.put("answeredBy", answeredBy);
            }
            String path = "/v1/runs/" + runId + "/interrupts/" + interruptId + "/answer?timeoutMs=" + timeoutMs;
            ApiClient.Answer answer = client.client().postExpecting(path, body, 409);
            JsonNode result = answer.body();
            String what = "interrupt " + interruptId + " of run " + runId;
            int code = 0;
            String line;
            if (answer.status() == 409) {
                code = AppendOptions.REFUSED;
                line = "refused (" + result.path("reason").asText("?") + "): "
                        + result.path("detail").asText();
            } else if (result.path("outcome").asText().equals("pending")) {
                code = AppendOptions.PENDING;
                line = "pending: the answer to " + what + " was not decided within " + timeoutMs + " ms; ask again"
                        + " with GET /v1/runs/" + runId + "/outcomes/"
                        + result.path("eventId").asText();
            } else if (result.path("outcome").asText().equals("duplicate")) {
                line = "duplicate: " + what + " was given this answer before; nothing changed";
            } else {
                line = "answered: " + what + " " + body.path("status").asText() + "; the run is now "
                        + result.path("state").path("status").asText("?");
            }
            client.print(spec.commandLine().getOut(), result, Table.line(line));
            return code;
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
