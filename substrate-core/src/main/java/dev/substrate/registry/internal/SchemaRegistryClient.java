package dev.substrate.registry.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.registry.SchemaRegistryFailed;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A client of the Confluent Schema Registry REST API (the part Substrate uses), on the JDK's {@link HttpClient}.
 * Every call has a timeout; a call that fails in a way that may pass (no answer, 5xx, 429) is tried again on the
 * next URL, at most {@link #ATTEMPTS} times in all with a growing pause; a refusal (4xx) or an answer that is not
 * the API's JSON fails at once. TLS uses the JVM's trust store. Thread-safe.
 */
public final class SchemaRegistryClient {

    /** Calls made for one request at most, over the configured URLs in turn. */
    public static final int ATTEMPTS = 3;

    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(200);
    private static final int MAX_ANSWER_CHARS = 300;

    private final List<URI> urls;
    private final String authorization;
    private final Duration timeout;
    private final HttpClient http;
    private final ObjectMapper json = new ObjectMapper();

    /**
     * A client of the registry at {@code urls}.
     *
     * @param userInfo {@code user:password} for HTTP basic authentication, or empty
     * @param timeout how long one call may take, connecting included
     */
    public SchemaRegistryClient(List<String> urls, String userInfo, Duration timeout) {
        if (urls.isEmpty()) {
            throw new IllegalArgumentException("a registry client needs at least one URL");
        }
        List<URI> parsed = new ArrayList<>();
        for (String url : urls) {
            String trimmed = url.strip();
            while (trimmed.endsWith("/")) {
                trimmed = trimmed.substring(0, trimmed.length() - 1);
            }
            parsed.add(URI.create(trimmed));
        }
        this.urls = List.copyOf(parsed);
        this.authorization = userInfo == null || userInfo.isEmpty()
                ? null
                : "Basic " + Base64.getEncoder().encodeToString(userInfo.getBytes(StandardCharsets.UTF_8));
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
    }

    /** The registry's URLs, as configured (no credentials are ever part of them here). */
    public List<URI> urls() {
        return urls;
    }

    /**
     * Registers {@code schema} (Avro, as JSON text) under {@code subject}, or finds it registered: the registry
     * answers the same id for the same schema, so this is safe to repeat.
     *
     * @return the schema's id
     * @throws SchemaRegistryFailed with status 409 when the subject's compatibility rule refuses the schema
     */
    public int register(String subject, String schema) {
        ObjectNode body = json.createObjectNode().put("schema", schema);
        JsonNode answer = call("POST", "/subjects/" + encode(subject) + "/versions", body);
        return requireInt(answer, "id", "/subjects/" + subject + "/versions");
    }

    /** The schema (Avro, as JSON text) registered with {@code id}; 404 when the registry knows no such id. */
    public String schemaById(int id) {
        JsonNode answer = call("GET", "/schemas/ids/" + id, null);
        JsonNode type = answer.get("schemaType");
        if (type != null && !type.isNull() && !"AVRO".equals(type.asText())) {
            throw new SchemaRegistryFailed(
                    "Schema id " + id + " at " + urls.get(0) + " is a " + type.asText() + " schema, not Avro",
                    200,
                    0,
                    false,
                    null);
        }
        JsonNode schema = answer.get("schema");
        if (schema == null || !schema.isTextual()) {
            throw garbage("/schemas/ids/" + id, 200, answer.toString());
        }
        return schema.asText();
    }

    /** The compatibility level set on {@code subject} itself, if any (the global default is not asked for). */
    public Optional<String> compatibility(String subject) {
        try {
            JsonNode answer = call("GET", "/config/" + encode(subject) + "?defaultToGlobal=false", null);
            JsonNode level =
                    answer.has("compatibilityLevel") ? answer.get("compatibilityLevel") : answer.get("compatibility");
            return level == null || level.isNull() ? Optional.empty() : Optional.of(level.asText());
        } catch (SchemaRegistryFailed e) {
            if (e.isNotFound()) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** Sets {@code subject}'s compatibility level, e.g. {@code FULL_TRANSITIVE}. */
    public void setCompatibility(String subject, String level) {
        call("PUT", "/config/" + encode(subject), json.createObjectNode().put("compatibility", level));
    }

    /** Whether the registry would accept {@code schema} as the next version of {@code subject}. */
    public boolean isCompatible(String subject, String schema) {
        try {
            JsonNode answer = call(
                    "POST",
                    "/compatibility/subjects/" + encode(subject) + "/versions/latest",
                    json.createObjectNode().put("schema", schema));
            JsonNode compatible = answer.get("is_compatible");
            if (compatible == null || !compatible.isBoolean()) {
                throw garbage("/compatibility/subjects/" + subject + "/versions/latest", 200, answer.toString());
            }
            return compatible.asBoolean();
        } catch (SchemaRegistryFailed e) {
            if (e.isNotFound()) {
                return true;
            }
            throw e;
        }
    }

    private JsonNode call(String method, String path, JsonNode body) {
        SchemaRegistryFailed last = null;
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            if (attempt > 0) {
                pause(FIRST_BACKOFF.multipliedBy(1L << (attempt - 1)));
            }
            URI url = URI.create(urls.get(attempt % urls.size()) + path);
            try {
                return once(method, url, body);
            } catch (SchemaRegistryFailed e) {
                if (!e.isRetriable()) {
                    throw e;
                }
                last = e;
            }
        }
        throw last;
    }

    private JsonNode once(String method, URI url, JsonNode body) {
        HttpRequest.Builder request =
                HttpRequest.newBuilder(url).timeout(timeout).header("Accept", CONTENT_TYPE + ", application/json");
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        if (body != null) {
            request.header("Content-Type", CONTENT_TYPE);
            request.method(method, HttpRequest.BodyPublishers.ofString(body.toString()));
        } else {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        }
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new SchemaRegistryFailed(
                    "Schema Registry " + method + " " + url + " got no answer: " + e, 0, 0, true, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SchemaRegistryFailed(
                    "Interrupted while calling Schema Registry " + method + " " + url, 0, 0, true, e);
        }
        int status = response.statusCode();
        JsonNode answer;
        try {
            answer = json.readTree(response.body());
        } catch (JsonProcessingException e) {
            answer = null;
        }
        if (status >= 200 && status < 300) {
            if (answer == null || !answer.isObject()) {
                throw garbage(method + " " + url, status, response.body());
            }
            return answer;
        }
        String message = answer != null && answer.hasNonNull("message")
                ? answer.get("message").asText()
                : shorten(response.body());
        int errorCode = answer != null && answer.hasNonNull("error_code")
                ? answer.get("error_code").asInt()
                : 0;
        boolean retriable = status >= 500 || status == 429 || status == 408;
        throw new SchemaRegistryFailed(
                "Schema Registry " + method + " " + url + " answered " + status
                        + (errorCode == 0 ? "" : " (error " + errorCode + ")") + ": " + shorten(message),
                status,
                errorCode,
                retriable,
                null);
    }

    private SchemaRegistryFailed garbage(String what, int status, String answer) {
        return new SchemaRegistryFailed(
                "Schema Registry " + what + " answered " + status + " with something that is not its API: "
                        + shorten(answer),
                status,
                0,
                false,
                null);
    }

    private int requireInt(JsonNode answer, String field, String what) {
        JsonNode value = answer.get(field);
        if (value == null || !value.canConvertToInt()) {
            throw garbage(what, 200, answer.toString());
        }
        return value.asInt();
    }

    private static String shorten(String text) {
        String oneLine = text == null ? "" : text.replaceAll("\\s+", " ").strip();
        return oneLine.length() <= MAX_ANSWER_CHARS ? oneLine : oneLine.substring(0, MAX_ANSWER_CHARS) + "...";
    }

    private static String encode(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static void pause(Duration duration) {
        try {
            // Backoff between attempts at a registry that did not answer or answered 5xx: a bounded pause
            // (200 ms, then 400 ms) that gives a restarting registry a moment, not a busy retry loop.
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
