package dev.substrate.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.substrate.webhook.WebhookSignature;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;

/**
 * The receiving end of {@code substrate webhooks listen}: an HTTP server on this machine whose deliveries are handed,
 * one at a time, to the command, which checks each signature; the sender gets 204 for a delivery that verified and
 * 401 for one that did not. Bodies past 1 MiB are refused (413).
 */
final class WebhookListener implements AutoCloseable {

    private static final int MAX_BODY = 1024 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    private final BlockingQueue<Received> received = new ArrayBlockingQueue<>(64);

    /** A delivery as it came, and the answer its sender waits for. */
    private record Received(
            String id, String timestamp, String signature, byte[] body, CompletableFuture<Integer> answer) {}

    /** A delivery, checked. */
    record Delivery(boolean verified, String id, String body) {

        /** One line: the notification's type, its entity and event, and whether its signature verified. */
        String line() {
            if (!verified) {
                return "NOT VERIFIED " + id + ": the signature does not match this subscription's secret";
            }
            try {
                JsonNode message = JSON.readTree(body);
                JsonNode data = message.path("data");
                String entity = data.has("runId")
                        ? "run " + data.path("runId").asText()
                        : "room " + data.path("roomId").asText();
                String interrupt = data.has("interruptId")
                        ? " interrupt " + data.path("interruptId").asText()
                        : "";
                return message.path("type").asText() + " " + entity + interrupt + " (" + id + ", verified)";
            } catch (IOException e) {
                return "verified " + id + " (not JSON)";
            }
        }
    }

    private WebhookListener(HttpServer server) {
        this.server = server;
    }

    static WebhookListener start(String host, int port) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 16);
        WebhookListener listener = new WebhookListener(server);
        server.createContext("/", listener::handle);
        server.setExecutor(Executors.newFixedThreadPool(2, task -> {
            Thread thread = new Thread(task, "substrate-webhooks-listen");
            thread.setDaemon(true);
            return thread;
        }));
        server.start();
        return listener;
    }

    int port() {
        return server.getAddress().getPort();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!exchange.getRequestMethod().equals("POST")) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readNBytes(MAX_BODY + 1);
            }
            if (body.length > MAX_BODY) {
                exchange.sendResponseHeaders(413, -1);
                return;
            }
            CompletableFuture<Integer> answer = new CompletableFuture<>();
            Received delivery = new Received(
                    exchange.getRequestHeaders().getFirst("webhook-id"),
                    exchange.getRequestHeaders().getFirst("webhook-timestamp"),
                    exchange.getRequestHeaders().getFirst("webhook-signature"),
                    body,
                    answer);
            if (!received.offer(delivery)) {
                exchange.sendResponseHeaders(503, -1);
                return;
            }
            exchange.sendResponseHeaders(answer.join(), -1);
        }
    }

    /** The next delivery, checked with {@code secret}; its sender is answered once it is. */
    Delivery next(byte[] secret) throws InterruptedException {
        Received delivery = received.take();
        boolean verified = WebhookSignature.verify(
                secret, delivery.id(), delivery.timestamp(), delivery.signature(), delivery.body(), Instant.now());
        delivery.answer().complete(verified ? 204 : 401);
        return new Delivery(verified, delivery.id(), new String(delivery.body(), StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
