package dev.substrate.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.cli.internal.ApiClient;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code substrate rooms list|show|transcript|tail|close|grant|revoke|append}: rooms as the API sees them. */
@Command(
        name = "rooms",
        mixinStandardHelpOptions = true,
        description =
                "Lists and shows rooms, prints and follows their streams, and acts on them, through the HTTP API.",
        footer = {"  substrate rooms list --status open", "  substrate rooms tail ROOM_ID"},
        subcommands = {
            RoomsCommand.ListRooms.class,
            RoomsCommand.Show.class,
            RoomsCommand.Transcript.class,
            RoomsCommand.Tail.class,
            RoomsCommand.Close.class,
            RoomsCommand.Grant.class,
            RoomsCommand.Revoke.class,
            RoomsCommand.Append.class
        })
final class RoomsCommand {

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "Lists the rooms the token may read; every filter given must hold.",
            footer = {"  substrate rooms list --run-id RUN_ID", "  substrate rooms list --member user:ana --status open"
            })
    static final class ListRooms implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Option(names = "--kind", paramLabel = "conversation|session", description = "Only rooms of this kind.")
        String kind;

        @Option(names = "--run-id", description = "Only rooms of this run.")
        String runId;

        @Option(names = "--parent-room-id", paramLabel = "ROOM_ID", description = "Only child rooms of this room.")
        String parent;

        @Option(names = "--project", description = "Only rooms of this project.")
        String project;

        @Option(names = "--status", paramLabel = "open|closed", description = "Only open or only closed rooms.")
        String status;

        @Option(names = "--member", paramLabel = "PRINCIPAL", description = "Only rooms this principal is a member of.")
        String member;

        @Mixin
        PageOptions page;

        @Override
        public Integer call() {
            Map<String, Object> query = new LinkedHashMap<>();
            query.put("kind", kind);
            query.put("runId", runId);
            query.put("parentRoomId", parent);
            query.put("project", project);
            query.put("status", status);
            query.put("member", member);
            page.addTo(query);
            JsonNode page = client.client().get("/v1/rooms", query);
            client.print(
                    spec.commandLine().getOut(),
                    page,
                    Table.of(
                            page.get("items"),
                            List.of("ROOM ID", "KIND", "STATE", "PROJECT", "EVENTS", "ENVIRONMENT"),
                            room -> room.get("roomId").asText(),
                            room -> room.get("kind").asText(),
                            room -> room.get("closed").asBoolean() ? "closed" : "open",
                            room -> room.get("project").asText(),
                            room -> room.path("counters").path("events").asText(),
                            room -> room.path("environment").path("status").asText()));
            return 0;
        }
    }

    @Command(
            name = "show",
            mixinStandardHelpOptions = true,
            description = "Shows one room's state: kind, status, members, runtime state.",
            footer = {"  substrate rooms show ROOM_ID --json"})
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(paramLabel = "ROOM_ID", description = "The room.")
        String roomId;

        @Override
        public Integer call() {
            client.show(spec.commandLine().getOut(), "/v1/rooms/" + roomId);
            return 0;
        }
    }

    @Command(
            name = "transcript",
            mixinStandardHelpOptions = true,
            description = "Prints a room's transcript: its turns, blocks, logs and errors, a page at a time.",
            footer = {
                "  substrate rooms transcript ROOM_ID --limit 500",
                "  substrate rooms transcript ROOM_ID --after 41"
            })
    static final class Transcript implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(paramLabel = "ROOM_ID", description = "The room.")
        String roomId;

        @Option(names = "--after", description = "Only entries after this offset.")
        Long after;

        @Option(names = "--limit", defaultValue = "100", description = "At most this many (default: ${DEFAULT-VALUE}).")
        int limit;

        @Override
        public Integer call() {
            Map<String, Object> query = new LinkedHashMap<>();
            query.put("after", after);
            query.put("limit", limit);
            JsonNode page = client.client().get("/v1/rooms/" + roomId + "/transcript", query);
            client.print(
                    spec.commandLine().getOut(),
                    page,
                    Table.of(
                            page.get("items"),
                            List.of("OFFSET", "KIND", "WHO", "TEXT"),
                            entry -> entry.get("offset").asText(),
                            entry -> entry.get("kind").asText()
                                    + (entry.get("subtype").isNull()
                                            ? ""
                                            : "/" + entry.get("subtype").asText()),
                            entry -> entry.get("role").isNull()
                                    ? Table.text(entry.get("actor"))
                                    : entry.get("role").asText(),
                            entry -> Table.text(entry.get("text"))));
            return 0;
        }
    }

    @Command(
            name = "tail",
            mixinStandardHelpOptions = true,
            description = {
                "Follows a room's stream, from its start, until the room is deleted or you stop it.",
                "Reads GET /v1/rooms/{id}/stream; reconnects after a dropped connection, resuming after the last"
                        + " event shown. With --ag-ui, prints the room's AG-UI events (GET /v1/rooms/{id}/ag-ui) as"
                        + " JSON lines, from a snapshot, until the room is closed (RUN_FINISHED)."
            },
            footer = {
                "  substrate rooms tail ROOM_ID",
                "  substrate rooms tail ROOM_ID --from now",
                "  substrate rooms tail ROOM_ID --cursor 41 --json",
                "  substrate rooms tail ROOM_ID --ag-ui"
            })
    static final class Tail implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(paramLabel = "ROOM_ID", description = "The room.")
        String roomId;

        @picocli.CommandLine.ArgGroup(exclusive = true)
        Start start;

        static final class Start {
            @Option(
                    names = "--from",
                    paramLabel = "start|now",
                    description = "From the room's first event (start, the default, as the SSE stream) or only"
                            + " what is appended from now on. With --ag-ui, start replays every event after an"
                            + " empty snapshot.")
            String from;

            @Option(names = "--cursor", paramLabel = "N", description = "After the event at cursor N.")
            Long cursor;
        }

        @Option(names = "--ag-ui", description = "AG-UI events as JSON lines, starting with a snapshot of the room.")
        boolean agUi;

        /** How often, at most, it reconnects in a row after the server ended the stream or the connection broke. */
        private static final int RECONNECTS = 10;

        @Override
        public Integer call() throws InterruptedException {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            StreamPrinter printer = new StreamPrinter(out, !client.json && Help.Ansi.AUTO.enabled());
            ObjectMapper json = new ObjectMapper();
            Long[] after = {start != null ? start.cursor : null};
            String from = start != null ? start.from : null;
            if (from != null && !from.equals("start") && !from.equals("now")) {
                throw new picocli.CommandLine.ParameterException(
                        spec.commandLine(), "--from takes start or now, was '" + from + "'");
            }
            String[] ended = {null};
            boolean[] received = {false};
            int attempts = 0;
            while (true) {
                Map<String, Object> query = new LinkedHashMap<>();
                if (after[0] != null) {
                    query.put("after", after[0]);
                } else if (agUi) {
                    if ("start".equals(from)) {
                        query.put("after", -1); // every event live, after an empty snapshot
                    }
                } else {
                    query.put("from", from == null ? "start" : from);
                }
                ended[0] = null;
                received[0] = false;
                try {
                    client.client().stream("/v1/rooms/" + roomId + (agUi ? "/ag-ui" : "/stream"), query, event -> {
                        JsonNode data;
                        try {
                            data = json.readTree(event.data());
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                        if (agUi) {
                            out.println(data);
                            out.flush();
                            received[0] = true;
                            if (event.id() != null) {
                                after[0] = Long.parseLong(event.id());
                            }
                            String type = data.path("type").asText();
                            if (type.equals("RUN_FINISHED") || type.equals("RUN_ERROR")) {
                                ended[0] = type.equals("RUN_FINISHED")
                                        ? "finished"
                                        : data.path("code").asText();
                                return false;
                            }
                            return true;
                        }
                        if (event.name().equals("end")) {
                            ended[0] = data.path("reason").asText();
                            return false;
                        }
                        after[0] = data.path("cursor").asLong();
                        received[0] = true;
                        if (client.json) {
                            out.println(data);
                            out.flush();
                        } else {
                            printer.print(event.name(), data);
                        }
                        return true;
                    });
                } catch (ApiClient.ApiUnreachable e) {
                    attempts = received[0] ? 1 : attempts + 1;
                    if (attempts > RECONNECTS) {
                        throw e;
                    }
                    err.println("The stream broke off (" + e.getMessage() + "); reconnecting"
                            + (after[0] == null ? "" : " after cursor " + after[0]));
                    err.flush();
                    Thread.sleep(1_000); // before reconnecting to a server that just dropped us
                    continue;
                }
                String reason = ended[0] == null ? "closed" : ended[0];
                switch (reason) {
                    case "finished" -> {
                        return 0;
                    }
                    case "deleted" -> {
                        if (client.json) {
                            err.println("The room was deleted.");
                        } else {
                            printer.ended("The room was deleted.");
                        }
                        return 0;
                    }
                    case "revoked" -> {
                        err.println("Your membership of room " + roomId + " was revoked.");
                        return 1;
                    }
                    default -> {
                        attempts = received[0] ? 1 : attempts + 1;
                        if (attempts > RECONNECTS) {
                            err.println("The stream ended (" + reason + ") " + RECONNECTS + " times in a row; "
                                    + "resume with --cursor " + after[0]);
                            return 1;
                        }
                        // slow-consumer, shutdown, unavailable or a closed connection: resume where it stopped.
                        Thread.sleep(500); // let the server (or the instance taking over) settle
                    }
                }
            }
        }
    }

    @Command(
            name = "close",
            mixinStandardHelpOptions = true,
            description = "Closes a room: nothing more may be appended to its stream (appends RoomClosed).",
            footer = {"  substrate rooms close ROOM_ID --reason 'session ended' --wait"})
    static final class Close implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        AppendOptions append;

        @Parameters(paramLabel = "ROOM_ID", description = "The room to close.")
        String roomId;

        @Option(names = "--reason", description = "Why, as the event records it.")
        String reason;

        @Override
        public Integer call() {
            ObjectNode event = JsonNodeFactory.instance.objectNode().put("type", "RoomClosed");
            if (reason != null) {
                event.put("reason", reason);
            }
            return append.append(spec.commandLine().getOut(), "rooms", roomId, event);
        }
    }

    @Command(
            name = "grant",
            mixinStandardHelpOptions = true,
            description = "Makes a principal a member of a room, or changes its role (appends MemberGranted).",
            footer = {"  substrate rooms grant ROOM_ID user:ana --role writer"})
    static final class Grant implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        AppendOptions append;

        @Parameters(index = "0", paramLabel = "ROOM_ID", description = "The room.")
        String roomId;

        @Parameters(index = "1", paramLabel = "PRINCIPAL", description = "Who becomes a member.")
        String principal;

        @Option(
                names = "--role",
                defaultValue = "reader",
                paramLabel = "owner|writer|reader",
                description = "What the member may do (default: ${DEFAULT-VALUE}).")
        String role;

        @Override
        public Integer call() {
            ObjectNode event = JsonNodeFactory.instance.objectNode().put("type", "MemberGranted");
            event.putObject("member").put("principal", principal).put("role", role);
            return append.append(spec.commandLine().getOut(), "rooms", roomId, event);
        }
    }

    @Command(
            name = "revoke",
            mixinStandardHelpOptions = true,
            description = "Removes a principal from a room's members (appends MemberRevoked).",
            footer = {"  substrate rooms revoke ROOM_ID user:ana --wait"})
    static final class Revoke implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        AppendOptions append;

        @Parameters(index = "0", paramLabel = "ROOM_ID", description = "The room.")
        String roomId;

        @Parameters(index = "1", paramLabel = "PRINCIPAL", description = "The member to remove.")
        String principal;

        @Override
        public Integer call() {
            ObjectNode event = JsonNodeFactory.instance.objectNode().put("type", "MemberRevoked");
            event.put("principal", principal);
            return append.append(spec.commandLine().getOut(), "rooms", roomId, event);
        }
    }

    @Command(
            name = "append",
            mixinStandardHelpOptions = true,
            description = {
                "Appends any room event, given as JSON.",
                "The event's own fields, as POST /v1/rooms/{roomId}/events takes them, such as {\"type\":"
                        + " \"LogEmitted\", \"level\": \"info\", \"message\": \"...\"}."
            },
            footer = {
                "  substrate rooms append ROOM_ID '{\"type\": \"LogEmitted\", \"level\": \"info\",",
                "      \"message\": \"deploy started\"}'"
            })
    static final class Append implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        AppendOptions append;

        @Parameters(index = "0", paramLabel = "ROOM_ID", description = "The room.")
        String roomId;

        @Parameters(
                index = "1",
                paramLabel = "EVENT",
                description = "The event as a JSON object; - reads it from stdin.")
        String event;

        @Override
        public Integer call() {
            return append.append(
                    spec.commandLine().getOut(), "rooms", roomId, AppendOptions.event(spec.commandLine(), event));
        }
    }
}
