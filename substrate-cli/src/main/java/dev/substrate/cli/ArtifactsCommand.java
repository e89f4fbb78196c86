package dev.substrate.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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

/** {@code substrate artifacts list|show|get}: artifacts as the API sees them, and their content. */
@Command(
        name = "artifacts",
        mixinStandardHelpOptions = true,
        description = "Lists and shows artifacts, and downloads their content, through the HTTP API.",
        footer = {"  substrate artifacts list --run-id RUN_ID", "  substrate artifacts get ARTIFACT_ID -o build.log"},
        subcommands = {ArtifactsCommand.ListArtifacts.class, ArtifactsCommand.Show.class, ArtifactsCommand.Get.class})
final class ArtifactsCommand {

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "Lists artifacts by owner or provenance; every filter given must hold.",
            footer = {
                "  substrate artifacts list --run-id RUN_ID --kind report",
                "  substrate artifacts list --parent project:acme/web --name build-"
            })
    static final class ListArtifacts implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Option(names = "--parent", description = "Only artifacts owned by this scope.")
        String parent;

        @Option(names = "--run-id", description = "Only artifacts produced by this run.")
        String runId;

        @Option(names = "--room-id", description = "Only artifacts produced in this room.")
        String roomId;

        @Option(names = "--kind", description = "Only artifacts of this kind.")
        String kind;

        @Option(names = "--media-type", description = "Only artifacts of this media type.")
        String mediaType;

        @Option(names = "--digest", description = "Only artifacts with this digest.")
        String digest;

        @Option(names = "--name", paramLabel = "PREFIX", description = "Only artifacts whose name starts with this.")
        String name;

        @Mixin
        PageOptions page;

        @Override
        public Integer call() {
            Map<String, Object> query = new LinkedHashMap<>();
            query.put("parent", parent);
            query.put("runId", runId);
            query.put("roomId", roomId);
            query.put("kind", kind);
            query.put("mediaType", mediaType);
            query.put("digest", digest);
            query.put("name", name);
            page.addTo(query);
            JsonNode page = client.client().get("/v1/artifacts", query);
            client.print(
                    spec.commandLine().getOut(),
                    page,
                    Table.of(
                            page.get("items"),
                            List.of("ARTIFACT ID", "KIND", "NAME", "VERSION", "LOCATOR"),
                            artifact -> artifact.get("artifactId").asText(),
                            artifact -> artifact.get("kind").asText(),
                            artifact -> artifact.get("name").asText(),
                            artifact -> artifact.get("version").asText(),
                            artifact -> Table.text(artifact.get("locator"))));
            return 0;
        }
    }

    @Command(
            name = "show",
            mixinStandardHelpOptions = true,
            description = "Shows one artifact's state: provenance, revisions, where its content is.",
            footer = {"  substrate artifacts show ARTIFACT_ID --json"})
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(paramLabel = "ARTIFACT_ID", description = "The artifact.")
        String artifactId;

        @Override
        public Integer call() {
            client.show(spec.commandLine().getOut(), "/v1/artifacts/" + artifactId);
            return 0;
        }
    }

    @Command(
            name = "get",
            mixinStandardHelpOptions = true,
            description = "Downloads an artifact's content from the blob store, to a file or standard output.",
            footer = {
                "  substrate artifacts get ARTIFACT_ID -o build.log",
                "  substrate artifacts get ARTIFACT_ID | less"
            })
    static final class Get implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(paramLabel = "ARTIFACT_ID", description = "The artifact.")
        String artifactId;

        @Option(
                names = {"-o", "--output"},
                paramLabel = "FILE",
                description = "Write the content here (replaced only once it is complete); default: standard output.")
        Path output;

        @Override
        public Integer call() throws IOException {
            String path = "/v1/artifacts/" + artifactId + "/content";
            if (output == null) {
                client.client().download(path, System.out);
                System.out.flush();
                return 0;
            }
            Path absolute = output.toAbsolutePath();
            Path temp = Files.createTempFile(absolute.getParent(), ".substrate-download", ".part");
            try {
                long bytes;
                try (OutputStream out = Files.newOutputStream(temp)) {
                    bytes = client.client().download(path, out);
                }
                Files.move(temp, absolute, StandardCopyOption.REPLACE_EXISTING);
                spec.commandLine().getErr().printf("Wrote %d bytes to %s%n", bytes, output);
                spec.commandLine().getErr().flush();
            } finally {
                Files.deleteIfExists(temp);
            }
            return 0;
        }
    }
}
