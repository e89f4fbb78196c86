package dev.substrate.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.api.auth.Role;
import dev.substrate.api.auth.TokenFile;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SharedKafka;
import dev.substrate.testing.TestSettings;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Run filters, checked against brute force. Several hundred runs with random fields and random lifecycles are
 * appended through two instances; the truth is each run's state read by its key. Every filter alone and random
 * combinations of them are then listed through both instances, page by page (small pages, and a scan budget so low
 * that sparse filters answer pages with fewer items than asked), and must answer exactly the runs a brute-force
 * filter of the truth selects, in the same order, with no duplicate and no miss; counts must equal the brute force.
 */
@ExtendWith(SharedKafka.class)
@Timeout(600)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RunFiltersIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int RUNS = 300;
    private static final Instant T0 = Instant.parse("2026-06-01T00:00:00Z");
    private static final List<String> PROJECTS = List.of("project:acme/web", "project:acme/api", "project:beta/web");
    private static final List<String> SURFACES =
            List.of("ui", "channel", "automation", "delegation", "operator", "schedule");
    private static final List<String> WAITS = List.of("approval", "input", "resource", "dependency", "schedule");

    @TempDir
    static Path dir;

    private static final List<ApiInstance> instances = new ArrayList<>();
    private static final List<SubstrateConfig> configs = new ArrayList<>();
    private static TokenFile tokenFile;
    private static String admin;
    private static String acmeOperator;
    /** Every run's state, read by its key once the fold applied all its events. */
    private static final Map<String, JsonNode> truth = new TreeMap<>();

    @BeforeAll
    static void start(KafkaCluster kafka) throws Exception {
        String prefix = "filters" + UUID.randomUUID().toString().substring(0, 6) + ".";
        TokenFile file = new TokenFile(dir.resolve("tokens.json"));
        tokenFile = file;
        admin = file.create("root", Set.of(Role.ADMIN));
        for (String name : List.of("a", "b")) {
            SubstrateConfig config = SubstrateConfig.of(TestSettings.of(
                    kafka,
                    prefix,
                    dir.resolve(name),
                    prefix + "app",
                    "commit.interval.ms",
                    "50",
                    "http.port",
                    "0",
                    // So low that a sparse filter's pages stop at the budget, fewer items than asked, and go on.
                    "query.scan.budget",
                    "15"));
            if (instances.isEmpty()) {
                try (Admin adminClient = kafka.admin()) {
                    TopicSetup.ensure(adminClient, Topics.from(config), 4, (short) -1);
                }
            }
            configs.add(config);
            instances.add(ApiInstance.start(config, file));
        }
        for (ApiInstance instance : instances) {
            await().atMost(Duration.ofMinutes(2))
                    .until(() -> ApiCalls.get(instance.url() + "/ready", null).statusCode() == 200);
        }
        acmeOperator =
                mint("{\"principal\": \"acme-op\", \"roles\": [\"operator\"], \"projects\": [\"project:acme/*\"]}");
        appendRandomRuns(new Random(19));
    }

    @AfterAll
    static void stop() {
        instances.forEach(ApiInstance::close);
    }

    /** Appends {@link #RUNS} runs with random fields and lifecycles, then reads each one's state by key. */
    private static void appendRandomRuns(Random random) throws Exception {
        Map<String, Integer> versions = new LinkedHashMap<>();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < RUNS; i++) {
            String runId = String.format("run-f%04d", i);
            int instance = i % 2;
            // Times to the minute, so that many runs share one: the order's tie-break (the run id) matters.
            Instant created = T0.plus(Duration.ofMinutes(random.nextInt(600)));
            ObjectNode create = JSON.createObjectNode();
            create.put("runId", runId);
            create.put("project", pick(random, PROJECTS));
            create.put("occurredAt", created.toString());
            ObjectNode activation = create.putObject("activation");
            activation.put("surface", pick(random, SURFACES));
            activation.put("actor", pick(random, List.of("alice", "bob", "carol")));
            if (random.nextBoolean()) {
                create.put("taskId", pick(random, List.of("T-1", "T-2", "T-3")));
            }
            if (!ids.isEmpty() && random.nextInt(4) == 0) {
                create.put("parentRunId", pick(random, ids));
            }
            if (random.nextInt(3) > 0) {
                create.put("correlationId", pick(random, List.of("c-1", "c-2", "c-3", "c-4")));
            }
            ObjectNode labels = create.putObject("labels");
            if (random.nextBoolean()) {
                labels.put("team", pick(random, List.of("a", "b")));
            }
            if (random.nextBoolean()) {
                labels.put("tier", pick(random, List.of("gold", "silver")));
            }
            accepted(instance, "/v1/runs", create);
            int version = 1;
            Instant at = created;
            int path = random.nextInt(8);
            if (path >= 1) {
                at = at.plus(Duration.ofMinutes(random.nextInt(30)));
                accepted(instance, "/v1/runs/" + runId + "/events", event("RunStarted", at));
                version++;
            }
            if (path >= 2) {
                at = at.plus(Duration.ofMinutes(random.nextInt(30)));
                ObjectNode waiting = event("RunWaiting", at);
                ObjectNode on = waiting.putObject("waitingOn");
                on.put("kind", pick(random, WAITS));
                on.put("detail", "someone");
                accepted(instance, "/v1/runs/" + runId + "/events", waiting);
                version++;
            }
            if (path >= 3) {
                at = at.plus(Duration.ofMinutes(random.nextInt(30)));
                accepted(instance, "/v1/runs/" + runId + "/events", event("RunResumed", at));
                version++;
            }
            if (path >= 4) {
                at = at.plus(Duration.ofMinutes(random.nextInt(30)));
                ObjectNode end;
                switch (path) {
                    case 4 ->
                        end = event("RunSucceeded", at)
                                .set("result", JSON.createObjectNode().put("summary", "done"));
                    case 5 -> {
                        end = event("RunFailed", at);
                        end.putObject("failure")
                                .put("code", pick(random, List.of("exit_code_1", "tool_error")))
                                .put("message", "it broke")
                                .put("retryable", random.nextBoolean());
                    }
                    case 6 -> end = event("RunCancelled", at);
                    default -> end = event("RunTimedOut", at);
                }
                accepted(instance, "/v1/runs/" + runId + "/events", end);
                version++;
            }
            versions.put(runId, version);
            ids.add(runId);
        }
        await().atMost(Duration.ofMinutes(2))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    for (Map.Entry<String, Integer> run : versions.entrySet()) {
                        if (truth.containsKey(run.getKey())
                                && truth.get(run.getKey()).get("version").asInt() == run.getValue()) {
                            continue;
                        }
                        HttpResponse<String> state = ApiCalls.get(url(0, "/v1/runs/" + run.getKey()), admin);
                        if (state.statusCode() != 200) {
                            return false;
                        }
                        truth.put(run.getKey(), JSON.readTree(state.body()));
                        if (truth.get(run.getKey()).get("version").asInt() != run.getValue()) {
                            return false;
                        }
                    }
                    return true;
                });
    }

    private static ObjectNode event(String type, Instant at) {
        ObjectNode event = JSON.createObjectNode();
        event.put("type", type);
        event.put("occurredAt", at.toString());
        return event;
    }

    private static <T> T pick(Random random, List<T> from) {
        return from.get(random.nextInt(from.size()));
    }

    private static void accepted(int instance, String path, ObjectNode body) throws Exception {
        HttpResponse<String> answer = ApiCalls.post(url(instance, path), body.toString(), admin);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
    }

    /**
     * A token minted on the first instance, once every instance knows it: the second learns of it by reading the
     * token topic, and until then answers 401 (what this class tests starts after that).
     */
    private static String mint(String body) throws Exception {
        HttpResponse<String> minted = ApiCalls.post(url(0, "/v1/tokens"), body, admin);
        assertThat(minted.statusCode()).as(minted.body()).isEqualTo(201);
        String token = JSON.readTree(minted.body()).get("token").asText();
        for (int instance = 0; instance < instances.size(); instance++) {
            String whoami = url(instance, "/v1/whoami");
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> ApiCalls.get(whoami, token).statusCode() == 200);
        }
        return token;
    }

    private static String url(int instance, String path) {
        return instances.get(instance).url() + path;
    }

    /** One filter: its query parameter and value, and what it means for a run's state. */
    private record Filter(String param, String value, Predicate<JsonNode> holds) {
        String query() {
            return param + "=" + URLEncoder.encode(value, StandardCharsets.UTF_8);
        }
    }

    private static Instant time(JsonNode run, String field) {
        JsonNode at = run.path("timestamps").path(field);
        return at.isNull() || at.isMissingNode() ? null : Instant.parse(at.asText());
    }

    /** Every filter the list takes, each with a value some runs have. */
    private static List<Filter> filters() {
        List<Filter> filters = new ArrayList<>();
        filters.add(
                new Filter("status", "failed", run -> run.get("status").asText().equals("failed")));
        filters.add(new Filter(
                "status",
                "waiting,cancelled",
                run -> Set.of("waiting", "cancelled").contains(run.get("status").asText())));
        for (String project : PROJECTS) {
            filters.add(new Filter(
                    "project", project, run -> run.get("project").asText().equals(project)));
        }
        filters.add(new Filter(
                "label",
                "team:a",
                run -> "a".equals(run.path("labels").path("team").asText(null))));
        filters.add(new Filter(
                "label",
                "tier:gold",
                run -> "gold".equals(run.path("labels").path("tier").asText(null))));
        filters.add(new Filter(
                "taskId", "T-2", run -> "T-2".equals(run.path("taskId").asText(null))));
        filters.add(new Filter(
                "parentRunId",
                "run-f0003",
                run -> "run-f0003".equals(run.path("parentRunId").asText(null))));
        filters.add(new Filter(
                "correlationId",
                "c-2",
                run -> "c-2".equals(run.path("correlationId").asText(null))));
        filters.add(new Filter(
                "actor",
                "bob",
                run -> run.path("activation").path("actor").asText().equals("bob")));
        filters.add(new Filter(
                "surface",
                "operator",
                run -> run.path("activation").path("surface").asText().equals("operator")));
        filters.add(new Filter(
                "failureCode",
                "tool_error",
                run -> "tool_error".equals(run.path("failure").path("code").asText(null))));
        filters.add(new Filter(
                "retryable",
                "true",
                run -> run.path("failure").isObject()
                        && run.path("failure").path("retryable").asBoolean()));
        filters.add(new Filter(
                "retryable",
                "false",
                run -> run.path("failure").isObject()
                        && !run.path("failure").path("retryable").asBoolean()));
        filters.add(new Filter(
                "waitingOn",
                "approval",
                run -> "approval".equals(run.path("waitingOn").path("kind").asText(null))));
        Instant from = T0.plus(Duration.ofMinutes(200));
        Instant until = T0.plus(Duration.ofMinutes(400));
        for (String field : List.of("created", "updated", "finished")) {
            filters.add(new Filter(field + "After", from.toString(), run -> {
                Instant at = time(run, field + "At");
                return at != null && !at.isBefore(from);
            }));
            filters.add(new Filter(field + "Before", until.toString(), run -> {
                Instant at = time(run, field + "At");
                return at != null && at.isBefore(until);
            }));
        }
        return filters;
    }

    /** Each filter alone, and random combinations of two to four (which may select nothing). */
    private static List<List<Filter>> combinations() {
        List<Filter> filters = filters();
        List<List<Filter>> combinations = new ArrayList<>();
        combinations.add(List.of());
        filters.forEach(filter -> combinations.add(List.of(filter)));
        Random random = new Random(23);
        for (int i = 0; i < 40; i++) {
            List<Filter> combination = new ArrayList<>();
            Set<String> params = new HashSet<>();
            int size = 2 + random.nextInt(3);
            while (combination.size() < size) {
                Filter filter = pick(random, filters);
                // label repeats; any other parameter may be given once.
                if (params.add(filter.param()) || filter.param().equals("label")) {
                    combination.add(filter);
                }
            }
            combinations.add(combination);
        }
        return combinations;
    }

    /** Every page of {@code query} asked of {@code instance}, {@code limit} at a time: each run's id in order. */
    private static List<String> everyPage(int instance, String query, int limit, String token) throws Exception {
        List<String> ids = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            String path = "/v1/runs?" + query + (query.isEmpty() ? "" : "&") + "limit=" + limit
                    + (cursor == null ? "" : "&cursor=" + cursor);
            HttpResponse<String> page = ApiCalls.get(url(instance, path), token);
            assertThat(page.statusCode()).as(path + ": " + page.body()).isEqualTo(200);
            assertThat(page.headers().firstValue("X-Substrate-Scanned"))
                    .as("the cost of " + path)
                    .isPresent();
            JsonNode body = JSON.readTree(page.body());
            assertThat(body.get("items").size()).isLessThanOrEqualTo(limit);
            body.get("items").forEach(run -> ids.add(run.get("runId").asText()));
            cursor = body.get("nextCursor").isNull()
                    ? null
                    : body.get("nextCursor").asText();
            assertThat(++pages).as("pages of " + query).isLessThan(RUNS * 3);
        } while (cursor != null);
        return ids;
    }

    private static List<String> bruteForce(List<Filter> filters, String order, Predicate<JsonNode> reach) {
        String field = order.equals("created") ? "createdAt" : "updatedAt";
        return truth.values().stream()
                .filter(reach)
                .filter(run ->
                        filters.stream().allMatch(filter -> filter.holds().test(run)))
                .sorted(Comparator.comparing((JsonNode run) -> time(run, field))
                        .thenComparing(run -> run.get("runId").asText())
                        .reversed())
                .map(run -> run.get("runId").asText())
                .toList();
    }

    private static String query(List<Filter> filters) {
        return String.join("&", filters.stream().map(Filter::query).toList());
    }

    @Test
    void everyFilterAndCombinationListsWhatBruteForceSelectsPagedOnBothInstances() throws Exception {
        int checked = 0;
        int nonEmpty = 0;
        for (List<Filter> filters : combinations()) {
            for (String order : List.of("updated", "created")) {
                List<String> expected = bruteForce(filters, order, run -> true);
                String query = query(filters)
                        + (order.equals("updated") ? "" : (filters.isEmpty() ? "" : "&") + "order=created");
                for (int instance = 0; instance < 2; instance++) {
                    List<String> listed = everyPage(instance, query, 7 + checked % 13, admin);
                    assertThat(listed)
                            .as("runs?%s on instance %d", query, instance)
                            .isEqualTo(expected);
                    assertThat(new HashSet<>(listed)).as("no duplicates").hasSameSizeAs(listed);
                    checked++;
                }
                nonEmpty += expected.isEmpty() ? 0 : 1;
            }
        }
        assertThat(truth).hasSizeGreaterThanOrEqualTo(RUNS);
        assertThat(nonEmpty).as("combinations that select something").isGreaterThan(40);
        System.out.printf("run filters: %d listings checked against brute force over %d runs%n", checked, RUNS);
    }

    @Test
    void aScopedTokenListsAndCountsOnlyItsProjects() throws Exception {
        Predicate<JsonNode> acme = run -> run.get("project").asText().startsWith("project:acme/");
        for (List<Filter> filters : combinations().subList(0, 12)) {
            assertThat(everyPage(1, query(filters), 50, acmeOperator))
                    .as("scoped runs?%s", query(filters))
                    .isEqualTo(bruteForce(filters, "updated", acme));
        }
        JsonNode counts = counts(0, "groupBy=project", acmeOperator);
        assertThat(counts.get("counts").has("project:beta/web")).isFalse();
        assertThat(counts.get("total").asLong())
                .isEqualTo(truth.values().stream().filter(acme).count());
    }

    @Test
    void countsEqualBruteForceOnBothInstances() throws Exception {
        Map<String, Function<JsonNode, String>> groups = Map.of(
                "status", run -> run.get("status").asText(),
                "project", run -> run.get("project").asText(),
                "surface", run -> run.path("activation").path("surface").asText());
        List<List<Filter>> combinations = combinations();
        int checked = 0;
        for (int i = 0; i < combinations.size(); i += 3) {
            List<Filter> filters = combinations.get(i);
            for (Map.Entry<String, Function<JsonNode, String>> group : groups.entrySet()) {
                Map<String, Long> expected = new TreeMap<>();
                truth.values().stream()
                        .filter(run -> filters.stream()
                                .allMatch(filter -> filter.holds().test(run)))
                        .forEach(run -> expected.merge(group.getValue().apply(run), 1L, Long::sum));
                String query = "groupBy=" + group.getKey() + (filters.isEmpty() ? "" : "&" + query(filters));
                JsonNode counts = counts(checked % 2, query, admin);
                Map<String, Long> answered = new TreeMap<>();
                counts.get("counts")
                        .properties()
                        .forEach(entry ->
                                answered.put(entry.getKey(), entry.getValue().asLong()));
                assertThat(answered).as("counts?%s", query).isEqualTo(expected);
                assertThat(counts.get("total").asLong())
                        .isEqualTo(expected.values().stream()
                                .mapToLong(Long::longValue)
                                .sum());
                checked++;
            }
        }
        System.out.printf("run counts: %d counts checked against brute force%n", checked);
    }

    private static JsonNode counts(int instance, String query, String token) throws Exception {
        HttpResponse<String> answer = ApiCalls.get(url(instance, "/v1/runs/counts?" + query), token);
        assertThat(answer.statusCode()).as(query + ": " + answer.body()).isEqualTo(200);
        return JSON.readTree(answer.body());
    }

    @Test
    void unknownOrRepeatedParametersAndForeignCursorsAreBadRequestsNamingThem() throws Exception {
        Map<String, String> refused = new LinkedHashMap<>();
        refused.put("/v1/runs?correlationID=abc", "correlationID");
        refused.put("/v1/runs?createdSince=2026-01-01T00:00:00Z", "createdSince");
        refused.put("/v1/runs?status=failed&status=waiting", "status");
        refused.put("/v1/runs?status=done", "status");
        refused.put("/v1/runs?createdAfter=yesterday", "createdAfter");
        refused.put("/v1/runs?order=oldest", "order");
        refused.put("/v1/runs?retryable=maybe", "retryable");
        refused.put("/v1/runs?surface=web", "surface");
        refused.put("/v1/runs?label=team", "label");
        refused.put("/v1/runs?cursor=bm90LW91cnM", "cursor");
        refused.put("/v1/runs?cursor=%25%25", "cursor");
        refused.put("/v1/runs/counts?groupBy=actor", "groupBy");
        refused.put("/v1/runs/counts?groupBy=status&limit=5", "limit");
        refused.put("/v1/runs/run-f0001?verbose=true", "verbose");
        refused.put("/v1/runs/run-f0001/events?afterVersion=2", "afterVersion");
        refused.put("/v1/rooms?kind=chat", "kind");
        refused.put("/v1/rooms?owner=alice", "owner");
        refused.put("/v1/rooms?status=archived", "status");
        refused.put("/v1/artifacts?type=report", "type");
        refused.put("/v1/tokens?all=true", "all");
        for (Map.Entry<String, String> request : refused.entrySet()) {
            for (int instance = 0; instance < 2; instance++) {
                HttpResponse<String> answer = ApiCalls.get(url(instance, request.getKey()), admin);
                assertThat(answer.statusCode())
                        .as(request.getKey() + ": " + answer.body())
                        .isEqualTo(400);
                JsonNode problem = JSON.readTree(answer.body());
                assertThat(problem.get("field").asText()).as(request.getKey()).isEqualTo(request.getValue());
                assertThat(problem.get("detail").asText()).as(request.getKey()).contains(request.getValue());
            }
        }
        // A cursor given out for one query is refused by another.
        JsonNode failed = JSON.readTree(
                ApiCalls.get(url(0, "/v1/runs?status=failed&limit=2"), admin).body());
        String cursor = failed.get("nextCursor").asText();
        assertThat(ApiCalls.get(url(0, "/v1/runs?status=failed&limit=5&cursor=" + cursor), admin)
                        .statusCode())
                .as("the same query, another page size")
                .isEqualTo(200);
        HttpResponse<String> other = ApiCalls.get(url(1, "/v1/runs?status=waiting&limit=2&cursor=" + cursor), admin);
        assertThat(other.statusCode()).as(other.body()).isEqualTo(400);
        assertThat(JSON.readTree(other.body()).get("field").asText()).isEqualTo("cursor");
        assertThat(ApiCalls.get(url(1, "/v1/rooms?cursor=" + cursor), admin).statusCode())
                .isEqualTo(400);
    }

    @Test
    void aRunCreatedOverHttpNeedsOnlyItsProjectAndAWaitBeginsWhenItIsRecorded() throws Exception {
        String operator = mint("{\"principal\": \"dana\", \"roles\": [\"operator\"]}");
        HttpResponse<String> created =
                ApiCalls.post(url(1, "/v1/runs?wait=applied"), "{\"project\": \"project:acme/web\"}", operator);
        assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
        JsonNode run = JSON.readTree(created.body()).get("state");
        assertThat(run.get("scope").asText()).isEqualTo("shared");
        assertThat(run.path("activation").path("actor").asText()).isEqualTo("dana");
        assertThat(run.path("activation").path("surface").asText()).isEqualTo("automation");
        String runId = run.get("runId").asText();

        HttpResponse<String> started = ApiCalls.post(
                url(0, "/v1/runs/" + runId + "/events?wait=applied"), "{\"type\": \"RunStarted\"}", operator);
        assertThat(started.statusCode()).as(started.body()).isEqualTo(200);
        HttpResponse<String> waiting = ApiCalls.post(
                url(0, "/v1/runs/" + runId + "/events?wait=applied"),
                "{\"type\": \"RunWaiting\", \"occurredAt\": \"2026-12-02T10:00:00Z\","
                        + " \"waitingOn\": {\"kind\": \"approval\", \"detail\": \"a reviewer\"}}",
                operator);
        assertThat(waiting.statusCode()).as(waiting.body()).isEqualTo(200);
        JsonNode state = JSON.readTree(waiting.body()).get("state");
        assertThat(state.path("waitingOn").path("since").asText()).isEqualTo("2026-12-02T10:00:00Z");
        assertThat(state.get("status").asText()).isEqualTo("waiting");

        // An explicit form still wins over the defaults.
        HttpResponse<String> explicit = ApiCalls.post(
                url(0, "/v1/runs?wait=applied"),
                "{\"project\": \"project:acme/web\", \"scope\": \"shared\","
                        + " \"activation\": {\"surface\": \"schedule\", \"actor\": \"nightly\"}}",
                admin);
        assertThat(JSON.readTree(explicit.body())
                        .path("state")
                        .path("activation")
                        .path("actor")
                        .asText())
                .isEqualTo("nightly");
        HttpResponse<String> local = ApiCalls.post(
                url(0, "/v1/runs"), "{\"project\": \"project:acme/web\", \"scope\": \"galactic\"}", admin);
        assertThat(local.statusCode()).isEqualTo(400);

        // The other tests compare lists with the truth: these runs are part of it now.
        remember(runId);
        remember(JSON.readTree(explicit.body()).get("runId").asText());
    }

    private static void remember(String runId) throws Exception {
        HttpResponse<String> state = ApiCalls.get(url(0, "/v1/runs/" + runId), admin);
        assertThat(state.statusCode()).isEqualTo(200);
        truth.put(runId, JSON.readTree(state.body()));
    }

    /**
     * The indexes are not logged: an instance fills them again from its state stores when it starts a task, unless
     * nothing changed that state since the task closed cleanly there. One instance stops (the other restores its partitions from their changelogs and indexes them), then starts
     * again on its old state directory (whose indexes are older than its state): the lists stay exact throughout.
     */
    @Test
    @Order(Integer.MAX_VALUE)
    void listsStayExactWhenPartitionsMoveAndAnInstanceRestartsOnItsOldState() throws Exception {
        List<List<Filter>> some = combinations().subList(0, 10);
        instances.remove(1).close();
        await().atMost(Duration.ofMinutes(2)).ignoreExceptions().until(() -> listsAll(0));
        for (List<Filter> filters : some) {
            assertThat(everyPage(0, query(filters), 9, admin))
                    .as("alone: runs?%s", query(filters))
                    .isEqualTo(bruteForce(filters, "updated", run -> true));
        }
        instances.add(ApiInstance.start(configs.get(1), tokenFile));
        await().atMost(Duration.ofMinutes(2)).ignoreExceptions().until(() -> listsAll(1));
        for (List<Filter> filters : some) {
            for (int instance = 0; instance < 2; instance++) {
                String query = (filters.isEmpty() ? "" : query(filters) + "&") + "order=created";
                assertThat(everyPage(instance, query, 9, admin))
                        .as("after the restart: runs?%s on instance %d", query(filters), instance)
                        .isEqualTo(bruteForce(filters, "created", run -> true));
            }
        }
    }

    /** Whether {@code instance} lists every run, page by page (its fold ready, every partition held and indexed). */
    private static boolean listsAll(int instance) throws Exception {
        int listed = 0;
        String cursor = null;
        do {
            HttpResponse<String> page = ApiCalls.get(
                    url(instance, "/v1/runs?limit=1000" + (cursor == null ? "" : "&cursor=" + cursor)), admin);
            if (page.statusCode() != 200) {
                return false;
            }
            JsonNode body = JSON.readTree(page.body());
            listed += body.get("items").size();
            cursor = body.get("nextCursor").isNull()
                    ? null
                    : body.get("nextCursor").asText();
        } while (cursor != null);
        return listed == truth.size();
    }
}
