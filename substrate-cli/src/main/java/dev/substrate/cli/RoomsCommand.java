package dev.substrate.cli;

import com.fasterxml.jackson.databind.JsonNode;
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

/** {@code substrate rooms list|show|transcript}: rooms as the API sees them. */
@Command(
        name = "rooms",
        mixinStandardHelpOptions = true,
        description = "Lists and shows rooms and their transcripts through the HTTP API.",
        subcommands = {RoomsCommand.ListRooms.class, RoomsCommand.Show.class, RoomsCommand.Transcript.class})
final class RoomsCommand {

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists the rooms the token may read.")
    static final class ListRooms implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Option(names = "--kind", description = "conversation or session")
        String kind;

        @Option(names = "--run-id", description = "Only rooms of this run.")
        String runId;

        @Option(names = "--parent", description = "Only child rooms of this room.")
        String parent;

        @Mixin
        PageOptions page;

        @Override
        public Integer call() {
            Map<String, Object> query = new LinkedHashMap<>();
            query.put("kind", kind);
            query.put("runId", runId);
            query.put("parentRoomId", parent);
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

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Shows one room's state.")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(paramLabel = "ROOM_ID")
        String roomId;

        @Override
        public Integer call() {
            client.show(spec.commandLine().getOut(), "/v1/rooms/" + roomId);
            return 0;
        }
    }

    @Command(name = "transcript", mixinStandardHelpOptions = true, description = "Prints a room's transcript.")
    static final class Transcript implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(paramLabel = "ROOM_ID")
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
}
