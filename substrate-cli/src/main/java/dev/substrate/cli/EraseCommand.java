package dev.substrate.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
        footer = {"  substrate erase room-01a24dd4 --reason 'data subject request 17'"})
final class EraseCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Parameters(index = "0", paramLabel = "ROOM", description = "The room to erase.")
    String roomId;

    @Option(names = "--reason", required = true, description = "Why (kept on the room's log).")
    String reason;

    @Override
    public Integer call() {
        ObjectNode body = JSON.createObjectNode().put("room", roomId).put("reason", reason);
        JsonNode record = client.client().post("/v1/erasures", body);
        Table rows = new Table("PLACE CLEARED", "AT");
        record.path("cleared")
                .forEach(place ->
                        rows.row(place.path("place").asText(), place.path("at").asText()));
        client.print(spec.commandLine().getOut(), record, rows);
        if (!client.json) {
            spec.commandLine()
                    .getOut()
                    .println(record.path("guarantee").asText() + "; compacted by "
                            + record.path("compactedBy").asText());
        }
        return 0;
    }
}
