package dev.substrate.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.cli.internal.ApiClient;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * What every operator action takes (cancel, resume, label, close, grant, revoke, append): where the API is, whether
 * to wait for the fold's decision, and the event's optimistic-concurrency check. Each action is an ordinary event
 * appended under the token's principal, so the log says who did what.
 */
@Command(
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:accepted, or applied with --wait",
            "1:the API could not be reached or refused the request",
            "2:the command line is wrong (an unknown option, an EVENT that is not JSON)",
            "3:the fold refused the event (with --wait)",
            "4:not decided within --timeout-ms (with --wait)"
        })
final class AppendOptions {

    /** The exit code of an event the fold refused. */
    static final int REFUSED = 3;

    /** The exit code of an event the fold had not decided when {@code --wait} gave up. */
    static final int PENDING = 4;

    @Mixin
    ClientOptions client;

    @Option(
            names = "--wait",
            description = "Wait for the fold's decision and print it: applied, or refused with its reason (exit 3), or"
                    + " still pending after --timeout-ms (exit 4).")
    boolean wait;

    @Option(
            names = "--timeout-ms",
            defaultValue = "5000",
            paramLabel = "MS",
            description = "How long --wait waits for the decision, 0 to 30000 (default: ${DEFAULT-VALUE}).")
    long timeoutMs;

    @Option(
            names = "--expected-version",
            paramLabel = "N",
            description = "Refuse the event unless the entity is at this version (optimistic concurrency).")
    Long expectedVersion;

    /**
     * Appends {@code event} to {@code kind}'s entity {@code id} ({@code runs}, {@code rooms}, {@code artifacts}),
     * prints what happened and returns the exit code: 0 when accepted (or applied), {@value #REFUSED} when refused,
     * {@value #PENDING} when not decided in time.
     */
    int append(PrintWriter out, String kind, String id, ObjectNode event) {
        if (expectedVersion != null) {
            event.put("expectedVersion", expectedVersion);
        }
        String path = "/v1/" + kind + "/" + id + "/events" + (wait ? "?wait=applied&timeoutMs=" + timeoutMs : "");
        ApiClient.Answer answer = client.client().postExpecting(path, event, 409);
        JsonNode body = answer.body();
        String type = event.path("type").asText();
        String entity = kind.substring(0, kind.length() - 1) + " " + id;
        int code = 0;
        String line;
        if (answer.status() == 409) {
            code = REFUSED;
            line = "refused (" + body.path("reason").asText("?") + "): " + type + " to " + entity + ": "
                    + body.path("detail").asText();
        } else {
            String outcome = body.path("outcome").asText();
            switch (outcome) {
                case "applied" ->
                    line = "applied: " + type + " to " + entity + ", now version "
                            + body.path("version").asText() + describe(body.path("state"));
                case "duplicate" ->
                    line = "duplicate: event " + body.path("eventId").asText() + " was decided before; nothing changed";
                default -> {
                    if (wait) {
                        code = PENDING;
                        line = "pending: " + type + " to " + entity + " (event "
                                + body.path("eventId").asText()
                                + ") was not decided within " + timeoutMs + " ms; ask again with GET /v1/" + kind + "/"
                                + id + "/outcomes/" + body.path("eventId").asText();
                    } else {
                        line = "accepted: " + type + " to " + entity + " (event "
                                + body.path("eventId").asText()
                                + "); the fold decides it a moment later (--wait to see the decision)";
                    }
                }
            }
        }
        client.print(out, body, Table.line(line));
        return code;
    }

    /** The JSON object {@code text} holds ({@code -}: standard input), or a usage error naming what is wrong. */
    static ObjectNode event(picocli.CommandLine commandLine, String text) {
        String json = text;
        if ("-".equals(text)) {
            try {
                json = new String(System.in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("Cannot read the event from standard input", e);
            }
        }
        JsonNode parsed;
        try {
            parsed = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
        } catch (java.io.IOException e) {
            throw new picocli.CommandLine.ParameterException(commandLine, "EVENT is not JSON: " + e.getMessage());
        }
        if (parsed == null || !parsed.isObject() || !parsed.path("type").isTextual()) {
            throw new picocli.CommandLine.ParameterException(
                    commandLine, "EVENT must be a JSON object with a \"type\", such as {\"type\": \"RunStarted\"}");
        }
        return (ObjectNode) parsed;
    }

    private static String describe(JsonNode state) {
        if (state.hasNonNull("status")) {
            return ", status " + state.get("status").asText();
        }
        if (state.has("closed")) {
            return state.get("closed").asBoolean() ? ", closed" : ", open";
        }
        return "";
    }
}
