package dev.substrate.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenFile;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SharedKafka;
import dev.substrate.testing.TestSettings;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tokens scoped to projects, as a matrix: every role, scoped and unscoped, on every route, asked of both of two
 * instances (so that half the lookups are forwarded, the scope travelling in the signed caller). Outside its scope
 * an entity does not exist for a token: 404, never 403, in lookups, history, transcripts, outcomes, content and
 * streams; lists leave it out; appends to it are 404 and creating one is 403.
 */
@ExtendWith(SharedKafka.class)
@Timeout(300)
class ScopedTokensIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<Role> ROLES = List.of(Role.ADMIN, Role.OPERATOR, Role.SERVICE, Role.OBSERVER);

    @TempDir
    static Path dir;

    private static final List<ApiInstance> instances = new ArrayList<>();
    private static String admin;
    /** Per role: the unscoped token and the one scoped to project:acme/*. */
    private static final Map<Role, String> unscoped = new LinkedHashMap<>();

    private static final Map<Role, String> scoped = new LinkedHashMap<>();
    private static final Map<String, String> acme = new LinkedHashMap<>();
    private static final Map<String, String> beta = new LinkedHashMap<>();

    @BeforeAll
    static void start(KafkaCluster kafka) throws Exception {
        String prefix = "scope" + UUID.randomUUID().toString().substring(0, 6) + ".";
        TokenFile file = new TokenFile(dir.resolve("tokens.json"));
        admin = file.create("root", Set.of(Role.ADMIN));
        for (String name : List.of("a", "b")) {
            SubstrateConfig config = SubstrateConfig.of(TestSettings.of(
                    kafka, prefix, dir.resolve(name), prefix + "app", "commit.interval.ms", "50", "http.port", "0"));
            if (instances.isEmpty()) {
                try (Admin adminClient = kafka.admin()) {
                    TopicSetup.ensure(adminClient, Topics.from(config), 4, (short) -1);
                }
            }
            instances.add(ApiInstance.start(config, file));
        }
        for (ApiInstance instance : instances) {
            await().atMost(Duration.ofMinutes(2))
                    .until(() -> ApiCalls.get(instance.url() + "/ready", null).statusCode() == 200);
        }
        for (Role role : ROLES) {
            unscoped.put(role, mint("all-" + role.id(), role, null));
            scoped.put(role, mint("acme-" + role.id(), role, "project:acme/*"));
        }
        for (Map.Entry<String, Map<String, String>> project :
                Map.of("project:acme/web", acme, "project:beta/web", beta).entrySet()) {
            Map<String, String> ids = project.getValue();
            ids.put(
                    "run",
                    created(
                            "/v1/runs",
                            "{\"scope\": \"shared\", \"project\": \"" + project.getKey()
                                    + "\", \"activation\": {\"surface\": \"ui\", \"actor\": \"root\"}}",
                            "runId"));
            StringBuilder members = new StringBuilder("[");
            for (Role role : ROLES) {
                for (String kind : List.of("all-", "acme-")) {
                    members.append(members.length() > 1 ? "," : "")
                            .append("{\"principal\": \"")
                            .append(kind)
                            .append(role.id())
                            .append("\", \"role\": \"writer\"}");
                }
            }
            ids.put(
                    "room",
                    created(
                            "/v1/rooms",
                            "{\"kind\": \"session\", \"project\": \"" + project.getKey() + "\", \"members\": "
                                    + members.append("]") + "}",
                            "roomId"));
            ids.put(
                    "artifact",
                    created(
                            "/v1/artifacts",
                            "{\"kind\": \"report\", \"name\": \"r\", \"parentId\": \""
                                    + project.getKey()
                                    + "\", \"locator\": \"https://example.com/r\", \"provenance\": {\"runId\": \""
                                    + ids.get("run")
                                    + "\"}}",
                            "artifactId"));
            HttpResponse<String> put = ApiCalls.HTTP.send(
                    ApiCalls.request(url(0, "/v1/artifacts/" + ids.get("artifact") + "/content?wait=applied"), admin)
                            .header("Content-Type", "text/plain")
                            .PUT(HttpRequest.BodyPublishers.ofString("content of " + project.getKey()))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
            ids.put("event", JSON.readTree(put.body()).get("eventId").asText());
        }
    }

    @AfterAll
    static void stop() {
        instances.forEach(ApiInstance::close);
    }

    private static String mint(String principal, Role role, String project) throws Exception {
        String body = "{\"principal\": \"" + principal + "\", \"roles\": [\"" + role.id() + "\"]"
                + (project == null ? "" : ", \"projects\": [\"" + project + "\"]") + "}";
        HttpResponse<String> minted = ApiCalls.post(url(0, "/v1/tokens"), body, admin);
        assertThat(minted.statusCode()).as(minted.body()).isEqualTo(201);
        return JSON.readTree(minted.body()).get("token").asText();
    }

    private static String created(String path, String body, String idField) throws Exception {
        HttpResponse<String> created = ApiCalls.post(url(0, path + "?wait=applied"), body, admin);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
        return JSON.readTree(created.body()).get(idField).asText();
    }

    private static String url(int instance, String path) {
        return instances.get(instance).url() + path;
    }

    /** Every read route of one project's entities, by name. */
    private static Map<String, String> reads(Map<String, String> ids) {
        Map<String, String> routes = new LinkedHashMap<>();
        routes.put("run", "/v1/runs/" + ids.get("run"));
        routes.put("run history", "/v1/runs/" + ids.get("run") + "/events");
        routes.put("room", "/v1/rooms/" + ids.get("room"));
        routes.put("transcript", "/v1/rooms/" + ids.get("room") + "/transcript");
        routes.put("artifact", "/v1/artifacts/" + ids.get("artifact"));
        routes.put("content", "/v1/artifacts/" + ids.get("artifact") + "/content");
        routes.put("outcome", "/v1/artifacts/" + ids.get("artifact") + "/outcomes/" + ids.get("event"));
        routes.put("stream", "/v1/rooms/" + ids.get("room") + "/stream");
        routes.put("ag-ui", "/v1/rooms/" + ids.get("room") + "/ag-ui");
        return routes;
    }

    @Test
    void outsideItsScopeEveryLookupIsNotFoundOnEveryInstanceWhateverTheRole() throws Exception {
        List<String> checked = new ArrayList<>();
        for (Role role : ROLES) {
            for (int instance = 0; instance < 2; instance++) {
                for (Map.Entry<String, String> route : reads(beta).entrySet()) {
                    int asScoped = status(url(instance, route.getValue()), scoped.get(role));
                    assertThat(asScoped)
                            .as("%s of project beta, scoped %s on instance %d", route.getKey(), role.id(), instance)
                            .isEqualTo(404);
                    int asUnscoped = status(url(instance, route.getValue()), unscoped.get(role));
                    assertThat(asUnscoped)
                            .as("%s of project beta, unscoped %s", route.getKey(), role.id())
                            .isEqualTo(200);
                    assertThat(status(url(instance, reads(acme).get(route.getKey())), scoped.get(role)))
                            .as("%s of project acme, scoped %s on instance %d", route.getKey(), role.id(), instance)
                            .isEqualTo(200);
                    checked.add(route.getKey());
                }
            }
        }
        System.out.printf(
                "scopes: %d lookups x 3 checked (beta scoped 404, beta unscoped 200, acme scoped 200)%n",
                checked.size());
    }

    @Test
    void listsLeaveOutWhatIsOutsideTheScope() throws Exception {
        for (Role role : ROLES) {
            for (int instance = 0; instance < 2; instance++) {
                for (String kind : List.of("run", "room", "artifact")) {
                    String list = "/v1/" + kind + "s?limit=1000";
                    assertThat(ids(url(instance, list), scoped.get(role), kind))
                            .as("%ss listed to a scoped %s", kind, role.id())
                            .contains(acme.get(kind))
                            .doesNotContain(beta.get(kind));
                    assertThat(ids(url(instance, list), unscoped.get(role), kind))
                            .contains(acme.get(kind), beta.get(kind));
                }
                assertThat(ids(url(instance, "/v1/runs?project=project:beta/web"), scoped.get(role), "run"))
                        .isEmpty();
            }
        }
    }

    @Test
    void appendsOutsideTheScopeAreNotFoundAndCreatingThereIsForbidden() throws Exception {
        for (Role role : List.of(Role.ADMIN, Role.OPERATOR, Role.SERVICE)) {
            String token = scoped.get(role);
            for (int instance = 0; instance < 2; instance++) {
                assertThat(ApiCalls.post(
                                        url(instance, "/v1/runs/" + beta.get("run") + "/events"),
                                        "{\"type\": \"RunStarted\"}",
                                        token)
                                .statusCode())
                        .as("append to a beta run, scoped %s", role.id())
                        .isEqualTo(404);
                assertThat(ApiCalls.post(
                                        url(instance, "/v1/rooms/" + beta.get("room") + "/events"),
                                        "{\"type\": \"TextDelta\", \"blockId\": \"b\", \"text\": \"hi\"}",
                                        token)
                                .statusCode())
                        .as("append to a beta room, scoped %s", role.id())
                        .isEqualTo(404);
                assertThat(ApiCalls.post(
                                        url(instance, "/v1/artifacts/" + beta.get("artifact") + "/events"),
                                        "{\"type\": \"ArtifactDeleted\"}",
                                        token)
                                .statusCode())
                        .isEqualTo(404);
                assertThat(ApiCalls.post(
                                        url(instance, "/v1/runs"),
                                        "{\"scope\": \"shared\", \"project\": \"project:beta/web\", "
                                                + "\"activation\": {\"surface\": \"ui\", \"actor\": \"x\"}}",
                                        token)
                                .statusCode())
                        .as("create a beta run, scoped %s", role.id())
                        .isEqualTo(403);
                HttpResponse<String> inScope = ApiCalls.post(
                        url(instance, "/v1/runs?wait=applied"),
                        "{\"scope\": \"shared\", \"project\": \"project:acme/api\", "
                                + "\"activation\": {\"surface\": \"ui\", \"actor\": \"acme-" + role.id() + "\"}}",
                        token);
                assertThat(inScope.statusCode()).as(inScope.body()).isEqualTo(200);
                String runId = JSON.readTree(inScope.body()).get("runId").asText();
                assertThat(ApiCalls.post(
                                        url(1 - instance, "/v1/runs/" + runId + "/events?wait=applied"),
                                        "{\"type\": \"RunStarted\"}",
                                        token)
                                .statusCode())
                        .as("append to its own run, scoped %s", role.id())
                        .isEqualTo(200);
            }
        }
    }

    @Test
    void aScopedAdminMintsListsAndRevokesOnlyInsideItsScope() throws Exception {
        String scopedAdmin = scoped.get(Role.ADMIN);

        HttpResponse<String> inherited = ApiCalls.post(
                url(1, "/v1/tokens"), "{\"principal\": \"child\", \"roles\": [\"observer\"]}", scopedAdmin);
        assertThat(inherited.statusCode()).as(inherited.body()).isEqualTo(201);
        JsonNode child = JSON.readTree(inherited.body());
        assertThat(child.get("projects").toString()).isEqualTo("[\"project:acme/*\"]");
        // Minted on instance 1, known to instance 0 once it has read the tokens topic: moments later (a 401 until
        // then).
        String childToken = child.get("token").asText();
        await().atMost(Duration.ofSeconds(10)).until(() -> status(url(0, "/v1/whoami"), childToken) != 401);
        assertThat(status(url(0, reads(beta).get("run")), childToken)).isEqualTo(404);
        HttpResponse<String> wider = ApiCalls.post(
                url(1, "/v1/tokens"),
                "{\"principal\": \"x\", \"roles\": [\"observer\"], \"projects\": [\"project:*\"]}",
                scopedAdmin);
        assertThat(wider.statusCode()).isEqualTo(403);

        JsonNode listed =
                JSON.readTree(ApiCalls.get(url(0, "/v1/tokens"), scopedAdmin).body());
        List<String> principals = new ArrayList<>();
        listed.get("items").forEach(item -> principals.add(item.get("principal").asText()));
        assertThat(principals).contains("acme-admin", "child").doesNotContain("root", "all-admin");
        assertThat(listed.toString()).doesNotContain("sbt_");

        String rootId = null;
        for (JsonNode item :
                JSON.readTree(ApiCalls.get(url(0, "/v1/tokens"), admin).body()).get("items")) {
            if (item.get("principal").asText().equals("root")) {
                rootId = item.get("tokenId").asText();
            }
        }
        assertThat(delete(url(1, "/v1/tokens/" + rootId), scopedAdmin)).isEqualTo(404);
        assertThat(delete(url(1, "/v1/tokens/" + child.get("tokenId").asText()), scopedAdmin))
                .isEqualTo(204);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> status(
                                url(0, reads(acme).get("run")),
                                child.get("token").asText())
                        == 401);
    }

    @Test
    void aScopedReaderFollowsTheLiveStreamOfARoomInItsScope() throws Exception {
        String roomId = acme.get("room");
        try (var stream = dev.substrate.testing.SseConnection.open(
                ApiCalls.HTTP,
                url(1, "/v1/rooms/" + roomId + "/stream"),
                Map.of("Authorization", "Bearer " + scoped.get(Role.OBSERVER)))) {
            HttpResponse<String> appended = ApiCalls.post(
                    url(0, "/v1/rooms/" + roomId + "/events"),
                    "{\"type\": \"TextDelta\", \"blockId\": \"b1\", \"text\": \"live\"}",
                    scoped.get(Role.SERVICE));
            assertThat(appended.statusCode()).as(appended.body()).isEqualTo(202);
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> stream.events().stream()
                            .anyMatch(event -> event.data().contains("live")));
        }
    }

    private static List<String> ids(String url, String token, String kind) throws Exception {
        HttpResponse<String> answer = ApiCalls.get(url, token);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        List<String> ids = new ArrayList<>();
        JSON.readTree(answer.body())
                .get("items")
                .forEach(item -> ids.add(item.get(kind + "Id").asText()));
        return ids;
    }

    /** The status of a GET, once its headers arrive (a stream's body is not waited for). */
    private static int status(String url, String token) throws Exception {
        HttpResponse<InputStream> answer = ApiCalls.HTTP
                .sendAsync(ApiCalls.request(url, token).GET().build(), HttpResponse.BodyHandlers.ofInputStream())
                .get(20, TimeUnit.SECONDS);
        answer.body().close();
        return answer.statusCode();
    }

    private static int delete(String url, String token) throws Exception {
        return ApiCalls.HTTP
                .send(ApiCalls.request(url, token).DELETE().build(), HttpResponse.BodyHandlers.ofString())
                .statusCode();
    }
}
