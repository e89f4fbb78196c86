package dev.substrate.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code substrate erase ROOM --reason R}: erases a room and destroys its content keys ({@code POST /v1/erasures}). */
@Command(
        name = "erase",
        mixinStandardHelpOptions = true,
        description = "Erases a room (an admin token): its deletion goes on its log with who asked and why, the fold"
                + " removes its state and derived copies, and its content keys are destroyed, so that in an encrypted"
                + " project (encryption.projects) its content can no longer be read anywhere once the keys topic is"
                + " compacted (erasure.bound.ms). Prints the erasure record.",
        footer = {
            "  substrate erase room-01a24dd4 --reason 'data subject request 17'",
            "  substrate erase --project project:acme/trial --reason 'the trial ended'"
        })
final class EraseCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Parameters(index = "0", arity = "0..1", paramLabel = "ROOM", description = "The room to erase.")
    String roomId;

    @Option(
            names = "--project",
            paramLabel = "PROJECT",
            description = "Erase every encrypted room of this project instead (1000 a call; call again while more"
                    + " remain).")
    String project;

    @Option(names = "--reason", required = true, description = "Why (kept on the room's log).")
    String reason;

    @Override
    public Integer call() {
        if ((roomId == null) == (project == null)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "name one ROOM, or --project");
        }
        ObjectNode body = JSON.createObjectNode().put("reason", reason);
        if (roomId != null) {
            body.put("room", roomId);
        } else {
            body.put("project", project);
        }
        JsonNode record = client.client().post("/v1/erasures", body);
        List<JsonNode> rooms = new ArrayList<>();
        if (record.has("rooms")) {
            record.path("rooms").forEach(rooms::add);
        } else {
            rooms.add(record);
        }
        Table rows = new Table("ROOM", "PLACE CLEARED", "AT");
        for (JsonNode room : rooms) {
            room.path("cleared")
                    .forEach(place -> rows.row(
                            room.path("room").asText(),
                            place.path("place").asText(),
                            place.path("at").asText()));
        }
        client.print(spec.commandLine().getOut(), record, rows);
        if (!client.json) {
            String guarantee =
                    rooms.isEmpty() ? "" : rooms.get(0).path("guarantee").asText() + "; ";
            spec.commandLine()
                    .getOut()
                    .println(guarantee + "compacted by "
                            + record.path("compactedBy").asText()
                            + (record.path("more").asBoolean() ? "; more rooms remain: run it again" : ""));
        }
        return 0;
    }
}
