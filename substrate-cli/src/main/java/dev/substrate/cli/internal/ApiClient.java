package dev.substrate.cli.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.substrate.SubstrateException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.StringJoiner;

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

    /** GETs {@code path} with the query parameters that are not null, and returns the JSON answer. */
    public JsonNode get(String path, Map<String, ?> query) {
        HttpResponse<String> response = send(path, query, "application/json", HttpResponse.BodyHandlers.ofString());
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

    private <T> HttpResponse<T> send(
            String path, Map<String, ?> query, String accept, HttpResponse.BodyHandler<T> handler) {
        StringJoiner params = new StringJoiner("&", "?", "").setEmptyValue("");
        query.forEach((name, value) -> {
            if (value != null) {
                params.add(name + "=" + URLEncoder.encode(value.toString(), StandardCharsets.UTF_8));
            }
        });
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl + path + params))
                .timeout(Duration.ofSeconds(30))
                .header("Accept", accept);
        if (token != null && !token.isBlank()) {
            request.header("Authorization", "Bearer " + token.strip());
        }
        try {
            return http.send(request.GET().build(), handler);
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
