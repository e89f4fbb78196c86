package dev.substrate.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;

/**
 * Prints a room's stream for people: block text as it streams in (a header when a block starts, deltas inline),
 * turns as rules, status, log and error lines on their own, coloured when {@code colour} is on.
 */
final class StreamPrinter {

    private static final String RESET = "\u001b[0m";
    private static final String BOLD = "\u001b[1m";
    private static final String DIM = "\u001b[2m";
    private static final String RED = "\u001b[31m";
    private static final String GREEN = "\u001b[32m";
    private static final String YELLOW = "\u001b[33m";
    private static final String CYAN = "\u001b[36m";

    private final PrintWriter out;
    private final boolean colour;
    private boolean midLine;
    private boolean deltasSeen;

    StreamPrinter(PrintWriter out, boolean colour) {
        this.out = out;
        this.colour = colour;
    }

    /** Prints one event of the raw view: {@code type} is its SSE event name, {@code event} its data. */
    void print(String type, JsonNode event) {
        JsonNode payload = event.path("payload");
        switch (type) {
            case "BlockStarted" -> {
                String who = payload.hasNonNull("role") ? payload.get("role").asText() : actor(event);
                endLine();
                out.print(paint(BOLD, who)
                        + paint(DIM, " (" + payload.path("kind").asText() + ")") + " ");
                midLine = true;
                deltasSeen = false;
            }
            case "TextDelta" -> {
                out.print(payload.path("text").asText());
                midLine = true;
                deltasSeen = true;
            }
            case "BlockCompleted" -> {
                if (!deltasSeen && payload.hasNonNull("text")) {
                    out.print(payload.get("text").asText());
                }
                endLine();
            }
            case "BlockUpdated" -> {
                // Attributes of the block; its text is what people follow.
            }
            case "TurnStarted" ->
                line(paint(
                        DIM,
                        "── turn " + payload.path("turnId").asText()
                                + (payload.hasNonNull("participant")
                                        ? " (" + payload.get("participant").asText() + ")"
                                        : "")
                                + " ──"));
            case "TurnEnded" ->
                line(paint(
                        DIM,
                        "── end of turn " + payload.path("turnId").asText()
                                + (payload.hasNonNull("reason")
                                        ? ": " + payload.get("reason").asText()
                                        : "") + " ──"));
            case "StatusChanged" -> {
                String status = payload.path("status").asText();
                String tint = switch (status) {
                    case "ready" -> GREEN;
                    case "error" -> RED;
                    case "starting" -> YELLOW;
                    default -> DIM;
                };
                line(paint(tint, "● " + status)
                        + (payload.hasNonNull("message")
                                ? " " + payload.get("message").asText()
                                : ""));
            }
            case "LogEmitted" -> {
                String level = payload.path("level").asText();
                String tint = switch (level) {
                    case "error" -> RED;
                    case "warn" -> YELLOW;
                    case "info" -> CYAN;
                    default -> DIM;
                };
                line(paint(tint, String.format("%-5s", level)) + " "
                        + payload.path("message").asText());
            }
            case "ErrorRaised" ->
                line(paint(
                        RED,
                        "✖ " + payload.path("code").asText() + ": "
                                + payload.path("message").asText()));
            default -> line(paint(DIM, "· " + type + " " + describe(type, payload, event)));
        }
        out.flush();
    }

    /** Prints why the stream ended. */
    void ended(String message) {
        endLine();
        line(paint(DIM, message));
        out.flush();
    }

    private static String describe(String type, JsonNode payload, JsonNode event) {
        return switch (type) {
            case "RoomCreated" ->
                payload.path("kind").asText() + " room in "
                        + payload.path("project").asText();
            case "MemberGranted" ->
                payload.path("member").path("principal").asText() + " as "
                        + payload.path("member").path("role").asText();
            case "MemberRevoked" -> payload.path("principal").asText();
            case "RoomClosed", "RoomDeleted" ->
                payload.hasNonNull("reason") ? payload.get("reason").asText() : "by " + actor(event);
            default -> payload.toString();
        };
    }

    private static String actor(JsonNode event) {
        return event.hasNonNull("actor") ? event.get("actor").asText() : "?";
    }

    private void line(String text) {
        endLine();
        out.println(text);
    }

    private void endLine() {
        if (midLine) {
            out.println();
            midLine = false;
        }
    }

    private String paint(String tint, String text) {
        return colour ? tint + text + RESET : text;
    }
}
