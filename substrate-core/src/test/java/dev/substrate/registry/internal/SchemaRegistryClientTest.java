package dev.substrate.registry.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.substrate.registry.SchemaRegistryFailed;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * How the registry client fails against servers that are not a working registry: nothing listening, an error
 * status, an answer that is not the API's JSON. (Against a real registry: the integration tests in
 * substrate-cli, on Apicurio Registry.)
 */
class SchemaRegistryClientTest {

    private HttpServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    @Test
    void noAnswerIsRetriableAndNamesTheUrl() throws IOException {
        int closed;
        try (ServerSocket socket = new ServerSocket(0)) {
            closed = socket.getLocalPort();
        }
        SchemaRegistryClient client =
                new SchemaRegistryClient(List.of("http://127.0.0.1:" + closed), "", Duration.ofSeconds(2));

        assertThatThrownBy(() -> client.schemaById(1))
                .isInstanceOf(SchemaRegistryFailed.class)
                .hasMessageContaining("http://127.0.0.1:" + closed + "/schemas/ids/1")
                .hasMessageContaining("no answer")
                .satisfies(e ->
                        assertThat(((SchemaRegistryFailed) e).isRetriable()).isTrue());
    }

    @Test
    void anErrorStatusIsReportedWithTheRegistrysMessageAndTriedAgainOnlyWhenItMayPass() throws IOException {
        AtomicInteger calls = new AtomicInteger();
        String url = serve(503, "{\"error_code\": 50003, \"message\": \"storage is down\"}", calls);
        SchemaRegistryClient client = new SchemaRegistryClient(List.of(url), "", Duration.ofSeconds(2));

        assertThatThrownBy(() -> client.register("s-value", "\"string\""))
                .isInstanceOf(SchemaRegistryFailed.class)
                .hasMessageContaining(url + "/subjects/s-value/versions")
                .hasMessageContaining("503")
                .hasMessageContaining("storage is down")
                .satisfies(e ->
                        assertThat(((SchemaRegistryFailed) e).isRetriable()).isTrue());
        assertThat(calls).hasValue(SchemaRegistryClient.ATTEMPTS);
    }

    @Test
    void aRefusalIsFatalAndNotRepeated() throws IOException {
        AtomicInteger calls = new AtomicInteger();
        String url = serve(401, "{\"error_code\": 40101, \"message\": \"bad credentials\"}", calls);
        SchemaRegistryClient client = new SchemaRegistryClient(List.of(url), "u:p", Duration.ofSeconds(2));

        assertThatThrownBy(() -> client.schemaById(7))
                .isInstanceOf(SchemaRegistryFailed.class)
                .hasMessageContaining("401")
                .hasMessageContaining("bad credentials")
                .satisfies(e ->
                        assertThat(((SchemaRegistryFailed) e).isRetriable()).isFalse());
        assertThat(calls).hasValue(1);
    }

    @Test
    void anAnswerThatIsNotTheApiIsAClearFatalError() throws IOException {
        String url = serve(200, "<html>a login page</html>", new AtomicInteger());
        SchemaRegistryClient client = new SchemaRegistryClient(List.of(url), "", Duration.ofSeconds(2));

        assertThatThrownBy(() -> client.schemaById(1))
                .isInstanceOf(SchemaRegistryFailed.class)
                .hasMessageContaining(url)
                .hasMessageContaining("not its API")
                .hasMessageContaining("a login page")
                .satisfies(e ->
                        assertThat(((SchemaRegistryFailed) e).isRetriable()).isFalse());
    }

    @Test
    void aNotFoundIdIsToldApart() throws IOException {
        String url = serve(404, "{\"error_code\": 40403, \"message\": \"Schema 9 not found\"}", new AtomicInteger());
        SchemaRegistryClient client = new SchemaRegistryClient(List.of(url), "", Duration.ofSeconds(2));

        assertThatThrownBy(() -> client.schemaById(9)).isInstanceOfSatisfying(SchemaRegistryFailed.class, e -> {
            assertThat(e.isNotFound()).isTrue();
            assertThat(e.errorCode()).isEqualTo(40403);
        });
    }

    private String serve(int status, String body, AtomicInteger calls) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            calls.incrementAndGet();
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        server.start();
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }
}
