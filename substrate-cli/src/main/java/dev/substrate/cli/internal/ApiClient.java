package dev.substrate.cli.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.substrate.SubstrateException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.StringJoiner;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** The operator commands' view of the HTTP API: GETs with a bearer token, problems turned into messages. */
public final class ApiClient {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String baseUrl;
    private final String token;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    public ApiClient(String baseUrl, String token) {
        this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        this.token = token;
    }

    /**
     * GETs {@code path} with the query parameters that are not null (a collection's values as the parameter
     * repeated), and returns the JSON answer.
     */
    public JsonNode get(String path, Map<String, ?> query) {
        return json(send(path, query, "application/json", HttpResponse.BodyHandlers.ofString()));
    }

    /** The JSON of an answer; its problem as an {@link ApiRefused} when it is an error. */
    private JsonNode json(HttpResponse<String> response) {
        JsonNode body;
        try {
            body = JSON.readTree(response.body());
        } catch (IOException e) {
            throw new ApiUnreachable(
                    "Substrate at " + baseUrl + " answered " + response.statusCode()
                            + " with something that is not JSON",
                    e);
        }
        if (response.statusCode() >= 400) {
            throw refused(response.statusCode(), body);
        }
        return body;
    }

    /** POSTs the JSON {@code body} to {@code path} and returns the JSON answer. */
    public JsonNode post(String path, JsonNode body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl + path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
        return json(send(request, "application/json", HttpResponse.BodyHandlers.ofString(), Duration.ofSeconds(30)));
    }

    /** PUTs the JSON {@code body} to {@code path} and returns the JSON answer. */
    public JsonNode put(String path, JsonNode body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl + path))
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(body.toString()));
        return json(send(request, "application/json", HttpResponse.BodyHandlers.ofString(), Duration.ofSeconds(30)));
    }

    /** An answer's status and JSON body. */
    public record Answer(int status, JsonNode body) {}

    /**
     * POSTs the JSON {@code body} to {@code path} and returns the answer when its status is 2xx or one of {@code
     * expected}; any other error answer is an {@link ApiRefused}.
     */
    public Answer postExpecting(String path, JsonNode body, int... expected) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl + path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
        HttpResponse<String> response =
                send(request, "application/json", HttpResponse.BodyHandlers.ofString(), Duration.ofSeconds(45));
        for (int status : expected) {
            if (response.statusCode() == status) {
                try {
                    return new Answer(status, JSON.readTree(response.body()));
                } catch (IOException e) {
                    throw new ApiUnreachable("Substrate at " + baseUrl + " answered " + status + " without JSON", e);
                }
            }
        }
        return new Answer(response.statusCode(), json(response));
    }

    /** DELETEs {@code path}; an error answer is an {@link ApiRefused}. */
    public void delete(String path) {
        HttpRequest.Builder request =
                HttpRequest.newBuilder(URI.create(baseUrl + path)).DELETE();
        HttpResponse<String> response =
                send(request, "application/json", HttpResponse.BodyHandlers.ofString(), Duration.ofSeconds(30));
        if (response.statusCode() >= 400) {
            json(response);
        }
    }

    /** The API's base URL. */
    public String baseUrl() {
        return baseUrl;
    }

    /**
     * GETs {@code path} and streams the answer's bytes to {@code out}.
     *
     * @return the number of bytes written
     */
    public long download(String path, OutputStream out) {
        HttpResponse<InputStream> response = send(path, Map.of(), "*/*", HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream body = response.body()) {
            if (response.statusCode() >= 400) {
                JsonNode problem;
                try {
                    problem = JSON.readTree(body);
                } catch (IOException e) {
                    problem = JSON.createObjectNode();
                }
                throw refused(response.statusCode(), problem);
            }
            return body.transferTo(out);
        } catch (IOException e) {
            throw new ApiUnreachable("The download from " + baseUrl + path + " broke off (" + e + ")", e);
        }
    }

    /** One server-sent event: its id ({@code null} when it has none), its name and its data. */
    public record ServerEvent(String id, String name, String data) {}

    /**
     * GETs the server-sent-event stream at {@code path} and hands each event to {@code onEvent} as it arrives,
     * until the server ends the stream (or {@code onEvent} returns false, which closes it).
     *
     * @throws ApiRefused when the API refuses the request
     * @throws ApiUnreachable when it cannot be reached or the connection breaks
     */
    public void stream(String path, Map<String, ?> query, Predicate<ServerEvent> onEvent) {
        HttpResponse<Stream<String>> response =
                send(path, query, "text/event-stream", HttpResponse.BodyHandlers.ofLines(), Duration.ofDays(365));
        try (Stream<String> lines = response.body()) {
            if (response.statusCode() >= 400) {
                String body = lines.collect(Collectors.joining("\n"));
                JsonNode problem;
                try {
                    problem = JSON.readTree(body);
                } catch (IOException e) {
                    problem = JSON.getNodeFactory().textNode(body);
                }
                throw refused(response.statusCode(), problem);
            }
            Iterator<String> each = lines.iterator();
            String name = null;
            String id = null;
            StringBuilder data = new StringBuilder();
            while (each.hasNext()) {
                String line = each.next();
                if (line.isEmpty()) {
                    if (data.length() > 0 || name != null) {
                        if (!onEvent.test(new ServerEvent(id, name == null ? "message" : name, data.toString()))) {
                            return;
                        }
                    }
                    name = null;
                    id = null;
                    data.setLength(0);
                } else if (!line.startsWith(":")) {
                    int colon = line.indexOf(':');
                    String field = colon < 0 ? line : line.substring(0, colon);
                    String value = colon < 0 ? "" : line.substring(colon + 1).replaceFirst("^ ", "");
                    switch (field) {
                        case "event" -> name = value;
                        case "id" -> id = value;
                        case "data" ->
                            data.append(data.length() > 0 ? "\n" : "").append(value);
                        default -> {
                            // retry: this client decides itself when to reconnect
                        }
                    }
                }
            }
        } catch (UncheckedIOException e) {
            throw new ApiUnreachable("The stream from " + baseUrl + path + " broke off (" + e.getCause() + ")", e);
        }
    }

    private <T> HttpResponse<T> send(
            String path, Map<String, ?> query, String accept, HttpResponse.BodyHandler<T> handler) {
        return send(path, query, accept, handler, Duration.ofSeconds(30));
    }

    private <T> HttpResponse<T> send(
            String path, Map<String, ?> query, String accept, HttpResponse.BodyHandler<T> handler, Duration timeout) {
        StringJoiner params = new StringJoiner("&", "?", "").setEmptyValue("");
        query.forEach((name, value) -> {
            if (value instanceof java.util.Collection<?> values) {
                values.forEach(
                        each -> params.add(name + "=" + URLEncoder.encode(each.toString(), StandardCharsets.UTF_8)));
            } else if (value != null) {
                params.add(name + "=" + URLEncoder.encode(value.toString(), StandardCharsets.UTF_8));
            }
        });
        return send(HttpRequest.newBuilder(URI.create(baseUrl + path + params)).GET(), accept, handler, timeout);
    }

    private <T> HttpResponse<T> send(
            HttpRequest.Builder request, String accept, HttpResponse.BodyHandler<T> handler, Duration timeout) {
        request.timeout(timeout).header("Accept", accept);
        if (token != null && !token.isBlank()) {
            request.header("Authorization", "Bearer " + token.strip());
        }
        try {
            return http.send(request.build(), handler);
        } catch (IOException e) {
            throw new ApiUnreachable("Cannot reach Substrate at " + baseUrl + " (" + e + ")", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiUnreachable("Interrupted while calling " + baseUrl, e);
        }
    }

    private static ApiRefused refused(int status, JsonNode problem) {
        return new ApiRefused(status, problem.path("detail").asText(problem.toString()));
    }

    /** The API could not be reached or answered nonsense. Retriable. */
    public static final class ApiUnreachable extends SubstrateException {
        private static final long serialVersionUID = 1L;

        ApiUnreachable(String message, Throwable cause) {
            super(message, cause);
        }

        @Override
        public boolean isRetriable() {
            return true;
        }
    }

    /** The API answered with an error. */
    public static final class ApiRefused extends SubstrateException {
        private static final long serialVersionUID = 1L;

        private final int status;

        ApiRefused(int status, String detail) {
            super(status + ": " + detail);
            this.status = status;
        }

        /** The HTTP status. */
        public int status() {
            return status;
        }

        @Override
        public boolean isRetriable() {
            return status == 503;
        }
    }
}
