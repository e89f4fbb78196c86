package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.api.auth.Principal;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.entity.EntityKind;
import dev.substrate.retention.InvalidPolicy;
import dev.substrate.retention.RetentionPolicy;
import dev.substrate.retention.RetentionPolicyFollower;
import dev.substrate.streams.RetentionPlan;
import dev.substrate.streams.StateQueries;
import dev.substrate.topic.TopicWriters;
import dev.substrate.topic.Topics;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * The retention policies: kept on {@code <prefix>retention-policies} (compacted, one key per policy), set, listed and
 * removed here, applied by the fold ({@code RetentionCheck}), and planned here as a dry run: {@code GET
 * /v1/retention/plan?policy=} asks every instance what the policy, enabled or not, would delete of its partitions now.
 */
final class RetentionRoutes implements AutoCloseable {

    /** What {@code GET /v1/retention/plan} takes. */
    static final Params PLAN_PARAMS = Params.read("policy", "at", "sample");

    /** The most policies kept: each is checked against every finished run and closed room at every check. */
    static final int MAX_POLICIES = 100;

    /** The most ids a plan lists, unless asked for fewer. */
    static final int MAX_SAMPLE = 1_000;

    private final String topic;
    private final KafkaProducer<String, byte[]> producer;
    private final RetentionPolicyFollower policies;
    private final Lists lists;
    private final Reads reads;
    private final long budget;

    RetentionRoutes(SubstrateConfig config, Topics topics, Lists lists, Reads reads, long budget) {
        this.topic = topics.retentionPolicies().name();
        this.producer = TopicWriters.idempotent(config, "substrate-retention");
        this.policies = RetentionPolicyFollower.start(config, topics);
        this.lists = lists;
        this.reads = reads;
        this.budget = budget;
    }

    /** GET /v1/retention/policies: {@code {"policies": [...]}}, by id. */
    void list(Context ctx) {
        ObjectNode answer = JsonNodeFactory.instance.objectNode();
        ArrayNode all = answer.putArray("policies");
        policies.get().all().forEach(policy -> all.add(policy.toJson()));
        Requests.json(ctx, answer);
    }

    /** GET /v1/retention/policies/{policyId}: one policy; 404 when there is none. */
    void show(Context ctx) {
        Requests.json(ctx, find(ctx.pathParam("policyId")).toJson());
    }

    /**
     * PUT /v1/retention/policies/{policyId}: sets the policy ({@code {"applies", "projects", "olderThan", "statuses", "keep",
     * "enabled"}}), replacing one of the same id; answered once this instance has read it back. The fold applies it
     * at its next check when enabled.
     */
    void set(Context ctx) {
        String id = ctx.pathParam("policyId");
        RetentionPolicy policy;
        try {
            policy = RetentionPolicy.fromJson(
                    id, Requests.body(ctx), Requests.principal(ctx).name(), Instant.now());
        } catch (InvalidPolicy e) {
            throw Problem.badRequest(e.getMessage(), e.field());
        }
        boolean known = policies.get().all().stream().anyMatch(p -> p.id().equals(id));
        if (!known && policies.get().all().size() >= MAX_POLICIES) {
            throw Problem.ofStatus(
                    409, "Too many policies", "at most " + MAX_POLICIES + " retention policies; remove one first");
        }
        write(id, policy.toJson().toString().getBytes(StandardCharsets.UTF_8));
        Requests.json(ctx, policy.toJson());
    }

    /** DELETE /v1/retention/policies/{policyId}: removes the policy (what it deleted stays deleted); 404 when none. */
    void delete(Context ctx) {
        RetentionPolicy policy = find(ctx.pathParam("policyId"));
        write(policy.id(), null);
        ctx.status(204);
    }

    /**
     * GET /v1/retention/plan?policy=&sample=: what the policy, enabled or not, would delete now, over every
     * instance's partitions: {@code {"policy", "at", "total", "byProject": {project: n}, "ids": [first ids], "scanned"}}.
     * A scoped caller's plan counts only its projects.
     */
    void plan(Context ctx) throws Exception {
        Principal principal = Requests.principal(ctx);
        String id = ctx.queryParam("policy");
        if (id == null) {
            throw Problem.badRequest("policy names the policy to plan", "policy");
        }
        RetentionPolicy policy = find(id);
        Instant at = at(ctx);
        int sample = sample(ctx);
        EntityKind<?, ?> kind = policy.applies() == RetentionPolicy.Applies.runs ? EntityKind.RUN : EntityKind.ROOM;
        String alsoAsk = ctx.queryParam("at") == null ? "at=" + at : "";
        lists.gather(
                ctx,
                List.of(kind),
                alsoAsk,
                () -> part(policy, at, principal, sample),
                parts -> answer(policy, at, sample, parts));
    }

    private ObjectNode part(RetentionPolicy policy, Instant at, Principal principal, int sample) {
        RetentionPlan plan;
        try {
            plan = reads.queries().retentionPlan(policy, at, principal::reaches, sample, budget);
        } catch (StateQueries.TooMuchToCount e) {
            throw Problem.ofStatus(422, "Plan too large", e.getMessage());
        }
        // One kind: the part is flat, as a list's, and checked to cover the partitions this instance holds.
        ObjectNode of = JsonNodeFactory.instance.objectNode();
        ObjectNode byProject = of.putObject("byProject");
        new TreeMap<>(plan.byProject()).forEach(byProject::put);
        ArrayNode ids = of.putArray("ids");
        plan.ids().forEach(ids::add);
        of.put("scanned", plan.scanned());
        ArrayNode partitions = of.putArray("partitions");
        plan.partitions().stream().sorted().forEach(partitions::add);
        return of;
    }

    private static ObjectNode answer(RetentionPolicy policy, Instant at, int sample, List<JsonNode> parts) {
        Map<String, Long> byProject = new TreeMap<>();
        TreeSet<String> ids = new TreeSet<>();
        long scanned = 0;
        for (JsonNode part : parts) {
            JsonNode of = part;
            of.path("byProject")
                    .properties()
                    .forEach(p -> byProject.merge(p.getKey(), p.getValue().asLong(), Long::sum));
            of.path("ids").forEach(id -> ids.add(id.asText()));
            scanned += of.path("scanned").asLong();
        }
        while (ids.size() > sample) {
            ids.pollLast();
        }
        ObjectNode answer = JsonNodeFactory.instance.objectNode();
        answer.set("policy", policy.toJson());
        answer.put("at", at.toString());
        answer.put(
                "total", byProject.values().stream().mapToLong(Long::longValue).sum());
        ObjectNode projects = answer.putObject("byProject");
        byProject.forEach(projects::put);
        ArrayNode sampled = answer.putArray("ids");
        ids.forEach(sampled::add);
        answer.put("scanned", scanned);
        return answer;
    }

    private RetentionPolicy find(String id) {
        return policies.get().all().stream()
                .filter(policy -> policy.id().equals(id))
                .findFirst()
                .orElseThrow(() -> Problem.notFound("retention policy " + id));
    }

    private void write(String id, byte[] value) {
        RecordMetadata written = SmallTopicWrites.write(producer, topic, id, value);
        SmallTopicWrites.awaitApplied(policies.follower(), topic, written);
    }

    /** The time the plan is for: {@code at} when given (a forwarded request carries the gathering instance's). */
    private static Instant at(Context ctx) {
        String at = ctx.queryParam("at");
        if (at == null) {
            return Instant.now();
        }
        try {
            return Instant.parse(at);
        } catch (DateTimeParseException e) {
            throw Problem.badRequest("at must be an ISO-8601 instant such as 2026-12-06T10:15:30Z", "at");
        }
    }

    private static int sample(Context ctx) {
        String sample = ctx.queryParam("sample");
        if (sample == null) {
            return 100;
        }
        try {
            int value = Integer.parseInt(sample);
            if (value < 0 || value > MAX_SAMPLE) {
                throw new NumberFormatException();
            }
            return value;
        } catch (NumberFormatException e) {
            throw Problem.badRequest("sample must be 0 to " + MAX_SAMPLE, "sample");
        }
    }

    @Override
    public void close() {
        producer.close();
        policies.close();
    }
}
