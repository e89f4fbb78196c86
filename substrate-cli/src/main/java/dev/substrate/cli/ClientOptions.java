package dev.substrate.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.substrate.cli.internal.ApiClient;
import dev.substrate.config.ClientVariable;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** How the operator commands reach the API and print what it says. */
final class ClientOptions {

    @Option(
            names = "--url",
            paramLabel = "URL",
            description = "The API (default: SUBSTRATE_URL, else http://localhost:8080).")
    String url;

    @Option(
            names = "--token",
            paramLabel = "TOKEN",
            description = "A bearer token (default: SUBSTRATE_TOKEN, else ./.substrate/admin.token if present).")
    String token;

    @Option(names = "--json", description = "Print the API's JSON instead of a table.")
    boolean json;

    ApiClient client() {
        return new ApiClient(url != null ? url : defaultUrl(), token());
    }

    /** SUBSTRATE_URL, else http://localhost:8080. */
    static String defaultUrl() {
        return ClientVariable.URL.in(System.getenv()).orElse(ClientVariable.URL.defaultValue());
    }

    private String token() {
        return token != null ? token : defaultToken();
    }

    /** SUBSTRATE_TOKEN, else the token {@code substrate dev} wrote in ./.substrate/admin.token, else null. */
    static String defaultToken() {
        java.util.Optional<String> fromEnv = ClientVariable.TOKEN.in(System.getenv());
        if (fromEnv.isPresent()) {
            return fromEnv.get();
        }
        Path devToken = Path.of(".substrate", "admin.token");
        try {
            return Files.exists(devToken) ? Files.readString(devToken).strip() : null;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + devToken, e);
        }
    }

    /** GETs one record and prints it as JSON when asked, or as a table of its fields. */
    void show(PrintWriter out, String path) {
        JsonNode record = client().get(path, java.util.Map.of());
        print(out, record, Table.fields(record));
    }

    /** Prints the answer as JSON when asked, or as the table {@code table} makes of it. */
    void print(PrintWriter out, JsonNode answer, Table table) {
        if (json) {
            try {
                out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(answer));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        } else {
            out.print(table.render());
        }
        out.flush();
    }
}
