package dev.substrate.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.substrate.client.SubstrateClient;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.event.WireCodec;
import dev.substrate.events.common.Usage;
import dev.substrate.events.room.MetadataUpdated;
import dev.substrate.events.room.RoomClosed;
import dev.substrate.events.room.RoomCreated;
import dev.substrate.events.room.RoomDeleted;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.RoomKind;
import dev.substrate.events.room.StreamMode;
import dev.substrate.events.run.Activation;
import dev.substrate.events.run.ActivationSurface;
import dev.substrate.events.run.Failure;
import dev.substrate.events.run.Result;
import dev.substrate.events.run.RunCancelled;
import dev.substrate.events.run.RunCreated;
import dev.substrate.events.run.RunEvent;
import dev.substrate.events.run.RunFailed;
import dev.substrate.events.run.RunScope;
import dev.substrate.events.run.RunStarted;
import dev.substrate.events.run.RunSucceeded;
import dev.substrate.events.run.RunTimedOut;
import dev.substrate.fold.FoldLimits;
import dev.substrate.fold.UsageTotals;
import dev.substrate.retention.RetentionPolicy;
import dev.substrate.state.RunState;
import dev.substrate.state.RunStatus;
import dev.substrate.state.UsageTotal;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SampleEvents;
import dev.substrate.testing.SharedKafka;
import dev.substrate.testing.TestRecords;
import dev.substrate.testing.TestSettings;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retention policies over 10,000 runs of mixed ages, statuses, projects and labels, and closed conversations: a plan
 * of each policy while disabled counts exactly the brute-force set; enabled, the fold deletes exactly that set, from
 * the state, the state topics (tombstones), every index, the history and the usage by run (the sums by project stay);
 * and a rebuild from the logs, which applies no policy itself, ends with the same state.
 */
@ExtendWith(SharedKafka.class)
@Timeout(600)
class RetentionIT {

    private static final int RUNS = 10_000;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> PROJECTS = List.of("project:acme/web", "project:acme/api", "project:other");

    @TempDir
    Path first;

    @TempDir
    Path second;

    /** One run as written: what the brute force decides on. */
    private record Written(
            String runId, String project, RunStatus status, Instant updatedAt, Map<String, String> labels) {}

    @Test
    void policiesDeleteExactlyTheBruteForceSetAndARebuildAgrees(KafkaCluster kafka) throws Exception {
        String prefix = "retain" + UUID.randomUUID().toString().substring(0, 6) + ".";
        Topics original = new Topics(prefix, 1024 * 1024);
        Topics rebuilt = new Topics(prefix, prefix + "rebuilt.", 1024 * 1024);
        try (Admin admin = kafka.admin()) {
            TopicSetup.ensure(admin, original, 3, (short) -1);
            TopicSetup.ensure(admin, rebuilt, 3, (short) -1);
        }
        SubstrateConfig running = SubstrateConfig.of(
                TestSettings.of(kafka, prefix, first, prefix + "first", "retention.check.interval.ms", "200"));
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        Random random = new Random(39);
        List<Written> runs = new ArrayList<>();
        List<Usage> usages = new ArrayList<>();
        Map<String, UsageTotal> usageByProject = new TreeMap<>();
        Map<String, Instant> talks = new TreeMap<>();
        Set<String> keptTalks = new TreeSet<>();
        try (SubstrateClient client = SubstrateClient.create(running)) {
            List<CompletableFuture<?>> pending = new ArrayList<>();
            for (int i = 0; i < RUNS; i++) {
                String runId = String.format("run-%05d", i);
                String project = PROJECTS.get(random.nextInt(PROJECTS.size()));
                // Ages of whole days plus half an hour: no run sits on a policy's boundary.
                Instant at = now.minus(Duration.ofDays(random.nextInt(61)).plusMinutes(30));
                Map<String, String> labels = new HashMap<>();
                int label = random.nextInt(20);
                if (label < 2) {
                    labels.put("pinned", "yes");
                } else if (label == 2) {
                    labels.put("legal", "hold");
                } else if (label == 3) {
                    labels.put("legal", "other");
                }
                RunStatus status = RunStatus.values()[random.nextInt(RunStatus.values().length)];
                pending.add(client.append(run(runId, at.minusSeconds(60), created(project, labels), null)));
                if (status != RunStatus.queued && status != RunStatus.cancelled) {
                    pending.add(client.append(run(runId, at.minusSeconds(30), new RunStarted(null), null)));
                }
                if (status == RunStatus.waiting) {
                    pending.add(client.append(run(
                            runId,
                            at,
                            new dev.substrate.events.run.RunWaiting(
                                    new dev.substrate.events.run.WaitingOn(
                                            dev.substrate.events.run.WaitingKind.input, "an answer", at),
                                    List.of()),
                            null)));
                }
                Object end = switch (status) {
                    case succeeded -> new RunSucceeded(new Result("done", List.of()));
                    case failed -> new RunFailed(new Failure("exit_code_1", "it failed", false, null));
                    case cancelled -> new RunCancelled("not needed");
                    case timed_out -> new RunTimedOut("an hour");
                    default -> null;
                };
                Instant updatedAt = status == RunStatus.queued
                        ? at.minusSeconds(60)
                        : status == RunStatus.running ? at.minusSeconds(30) : at;
                if (end != null) {
                    Usage usage = random.nextInt(5) == 0
                            ? Usage.newBuilder()
                                    .setModel(random.nextBoolean() ? "model-a" : "model-b")
                                    .setInputTokens(1 + random.nextInt(1000))
                                    .setOutputTokens(random.nextInt(1000))
                                    .build()
                            : null;
                    pending.add(client.append(run(runId, at, end, usage)));
                    if (usage != null) {
                        usages.add(usage);
                        usageByProject.merge(project, UsageTotals.of(usage), UsageTotals::plus);
                    }
                }
                runs.add(new Written(runId, project, status, updatedAt, labels));
                if (pending.size() > 2_000) {
                    CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
                            .join();
                    pending.clear();
                }
            }
            for (int i = 0; i < 40; i++) {
                String roomId = String.format("talk-%02d", i);
                Instant closedAt = now.minus(Duration.ofDays(random.nextInt(21)).plusMinutes(30));
                pending.add(client.append(room(
                        roomId,
                        closedAt.minusSeconds(60),
                        RoomCreated.newBuilder()
                                .setKind(RoomKind.conversation)
                                .setProject("project:acme/web")
                                .setStream(StreamMode.durable)
                                .build())));
                if (i % 7 == 0) {
                    keptTalks.add(roomId);
                    pending.add(client.append(
                            room(roomId, closedAt.minusSeconds(30), new MetadataUpdated(Map.of("keep", "yes")))));
                }
                if (i % 4 != 0) {
                    pending.add(client.append(room(roomId, closedAt, new RoomClosed("done"))));
                    talks.put(roomId, closedAt);
                }
            }
            CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).join();
        }
        List<String> logs = List.of(
                original.runEvents().name(),
                original.roomEvents().name(),
                original.artifactEvents().name());

        // The brute force: what each policy deletes, and what stays.
        Set<String> oldAcme = ids(
                runs,
                run -> run.project().startsWith("project:acme/")
                        && finished(run.status())
                        && run.updatedAt().isBefore(now.minus(Duration.ofDays(30)))
                        && !run.labels().containsKey("pinned")
                        && !"hold".equals(run.labels().get("legal")));
        Set<String> failedOther = ids(
                runs,
                run -> run.project().equals("project:other")
                        && run.status() == RunStatus.failed
                        && run.updatedAt().isBefore(now.minus(Duration.ofDays(7))));
        Set<String> deleted = new TreeSet<>(oldAcme);
        deleted.addAll(failedOther);
        Set<String> deletedTalks = talks.entrySet().stream()
                .filter(talk -> talk.getValue().isBefore(now.minus(Duration.ofDays(10))))
                .map(Map.Entry::getKey)
                .filter(talk -> !keptTalks.contains(talk))
                .collect(Collectors.toCollection(TreeSet::new));
        assertThat(oldAcme).hasSizeGreaterThan(1_000);
        assertThat(failedOther).hasSizeGreaterThan(100);
        assertThat(deletedTalks).isNotEmpty();

        String oldRuns = "{\"applies\": \"runs\", \"projects\": [\"project:acme/*\"], \"olderThan\": \"30d\","
                + " \"keep\": [\"pinned\", \"legal=hold\"], \"enabled\": %s}";
        String failed = "{\"applies\": \"runs\", \"projects\": [\"project:other\"], \"olderThan\": \"7d\","
                + " \"statuses\": [\"failed\"], \"enabled\": %s}";
        String oldTalks =
                "{\"applies\": \"conversations\", \"olderThan\": \"10d\", \"keep\": [\"keep\"], \"enabled\": %s}";
        setPolicy(kafka, original, "old-runs", oldRuns.formatted(false));
        setPolicy(kafka, original, "failed-other", failed.formatted(false));
        setPolicy(kafka, original, "old-talks", oldTalks.formatted(false));

        try (SubstrateFold fold = SubstrateFold.start(running, new Instance("localhost", 1));
                Admin admin = kafka.admin()) {
            FoldProgress.awaitCaughtUp(admin, fold.applicationId(), logs, Duration.ofMinutes(3));
            StateQueries queries = fold.queries();
            await().atMost(Duration.ofMinutes(1))
                    .ignoreExceptions()
                    .until(() -> liveRuns(queries).size() == RUNS);

            // Disabled, they delete nothing; their plans count exactly what each would.
            Instant planned = Instant.now();
            assertPlan(queries, policy("old-runs", oldRuns.formatted(false)), planned, oldAcme);
            assertPlan(queries, policy("failed-other", failed.formatted(false)), planned, failedOther);
            assertPlan(queries, policy("old-talks", oldTalks.formatted(false)), planned, deletedTalks);

            setPolicy(kafka, original, "old-runs", oldRuns.formatted(true));
            setPolicy(kafka, original, "failed-other", failed.formatted(true));
            setPolicy(kafka, original, "old-talks", oldTalks.formatted(true));
            await().atMost(Duration.ofMinutes(3))
                    .pollInterval(Duration.ofMillis(500))
                    .ignoreExceptions()
                    .until(() -> liveRuns(queries).size() == RUNS - deleted.size()
                            && queries.rooms(StateQueries.Filter.roomsByKind("conversation"), r -> true, null, 100)
                                            .items()
                                            .size()
                                    == 40 - deletedTalks.size());
            FoldProgress.awaitCaughtUp(admin, fold.applicationId(), logs, Duration.ofMinutes(1));

            Set<String> expected = new TreeSet<>(ids(runs, run -> true));
            expected.removeAll(deleted);
            assertThat(liveRuns(queries)).isEqualTo(expected);
            // Every index answers for exactly the runs that stay.
            for (RunStatus status : RunStatus.values()) {
                assertThat(list(queries, RunIndex.byStatus(Set.of(status))))
                        .as("runs-by-status %s", status)
                        .isEqualTo(ids(runs, run -> run.status() == status && !deleted.contains(run.runId())));
            }
            for (String project : PROJECTS) {
                assertThat(list(queries, RunIndex.byProject(project)))
                        .isEqualTo(ids(runs, run -> run.project().equals(project) && !deleted.contains(run.runId())));
            }
            assertThat(list(queries, RunIndex.byLabel("legal", "other")))
                    .isEqualTo(ids(
                            runs, run -> "other".equals(run.labels().get("legal")) && !deleted.contains(run.runId())));
            assertThat(list(queries, RunIndex.byCreation())).isEqualTo(expected);
            String gone = deleted.iterator().next();
            assertThat(queries.run(gone)).isEmpty();
            assertThat(queries.runHistory(gone, 0, 10).entries()).isEmpty();
            // Usage: no deleted run is named, and every project's sums stay whole.
            UsageQuery byRun = new UsageQuery(null, p -> true, null, null, null, UsageQuery.GroupBy.RUN, null);
            assertThat(queries.usage(dev.substrate.entity.EntityKind.RUN, byRun, Long.MAX_VALUE)
                            .groups()
                            .keySet())
                    .doesNotContainAnyElementsOf(deleted);
            UsageQuery byProject = new UsageQuery(null, p -> true, null, null, null, UsageQuery.GroupBy.PROJECT, null);
            assertThat(tokens(queries.usage(dev.substrate.entity.EntityKind.RUN, byProject, Long.MAX_VALUE)
                            .groups()))
                    .isEqualTo(tokens(usageByProject));
            assertThat(usages).isNotEmpty();
        }

        // The state topics hold exactly what stays (the deleted ones' latest records are tombstones).
        Map<String, String> runsTopic =
                TestRecords.latestByKey(kafka, original.runs().name());
        Set<String> stays = new TreeSet<>(ids(runs, run -> true));
        stays.removeAll(deleted);
        assertThat(runsTopic.keySet()).isEqualTo(stays);
        Map<String, String> roomsTopic =
                TestRecords.latestByKey(kafka, original.rooms().name());
        assertThat(roomsTopic.keySet())
                .doesNotContainAnyElementsOf(deletedTalks)
                .hasSize(40 - deletedTalks.size());
        List<RoomEvent> roomDeletions = TestRecords.readAll(
                        kafka, original.roomEvents().name())
                .stream()
                .map(record -> WireCodec.ROOM.decode(record.value()))
                .filter(event -> event.getPayload() instanceof RoomDeleted)
                .toList();
        assertThat(roomDeletions)
                .allSatisfy(event -> assertThat(((RoomDeleted) event.getPayload()).getPolicy())
                        .isEqualTo("old-talks"));

        // A rebuild from the logs applies no policy, yet ends with the same state: the deletions are on the logs.
        SubstrateConfig rebuilding = SubstrateConfig.of(TestSettings.of(kafka, prefix, second, prefix + "second"));
        FoldSettings settings = new FoldSettings(
                rebuilt, FoldLimits.of(1024 * 1024), Duration.ofDays(7), Duration.ofDays(7), Duration.ofMillis(200));
        try (SubstrateFold fold = SubstrateFold.start(rebuilding, settings);
                Admin admin = kafka.admin()) {
            FoldProgress.awaitCaughtUp(admin, fold.applicationId(), logs, Duration.ofMinutes(3));
        }
        assertThat(TestRecords.latestByKey(kafka, rebuilt.runs().name())).isEqualTo(runsTopic);
        assertThat(TestRecords.latestByKey(kafka, rebuilt.rooms().name())).isEqualTo(roomsTopic);
    }

    private static void assertPlan(StateQueries queries, RetentionPolicy policy, Instant at, Set<String> expected) {
        RetentionPlan plan = queries.retentionPlan(policy, at, project -> true, 1_000, Long.MAX_VALUE);
        assertThat(plan.byProject().values().stream().mapToLong(Long::longValue).sum())
                .as("plan of %s", policy.id())
                .isEqualTo(expected.size());
        assertThat(plan.ids()).isEqualTo(expected.stream().limit(1_000).toList());
    }

    /** Each group's events and tokens. */
    private static Map<String, List<Long>> tokens(Map<String, UsageTotal> sums) {
        Map<String, List<Long>> tokens = new TreeMap<>();
        sums.forEach((group, sum) ->
                tokens.put(group, List.of(sum.getEvents(), sum.getInputTokens(), sum.getOutputTokens())));
        return tokens;
    }

    private static Set<String> liveRuns(StateQueries queries) {
        return list(queries, RunIndex.byUpdate());
    }

    private static Set<String> list(StateQueries queries, RunIndex index) {
        Set<String> ids = new TreeSet<>();
        String cursor = null;
        do {
            Page<RunState> page = queries.runs(index, run -> true, cursor, 1_000);
            page.items().forEach(run -> ids.add(run.getRunId()));
            cursor = page.nextCursor();
        } while (cursor != null);
        return ids;
    }

    private static Set<String> ids(List<Written> runs, java.util.function.Predicate<Written> test) {
        return runs.stream().filter(test).map(Written::runId).collect(Collectors.toCollection(TreeSet::new));
    }

    private static boolean finished(RunStatus status) {
        return status != RunStatus.queued && status != RunStatus.running && status != RunStatus.waiting;
    }

    private static RetentionPolicy policy(String id, String json) throws Exception {
        return RetentionPolicy.fromJson(id, JSON.readTree(json), "admin", Instant.now());
    }

    /** Writes a policy to the policy topic, as {@code PUT /v1/retention/policies/{id}} does. */
    private static void setPolicy(KafkaCluster kafka, Topics topics, String id, String json) throws Exception {
        var props = kafka.clientProperties();
        try (KafkaProducer<String, byte[]> producer =
                new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(
                            topics.retentionPolicies().name(),
                            id,
                            policy(id, json).toJson().toString().getBytes(StandardCharsets.UTF_8)))
                    .get();
        }
    }

    private static RunEvent run(String runId, Instant at, Object payload, Usage usage) {
        return RunEvent.newBuilder(SampleEvents.runEvent(runId, payload))
                .setOccurredAt(at)
                .setUsage(usage)
                .build();
    }

    private static RoomEvent room(String roomId, Instant at, Object payload) {
        return RoomEvent.newBuilder(SampleEvents.roomEvent(roomId, payload))
                .setOccurredAt(at)
                .setActor(null)
                .build();
    }

    private static RunCreated created(String project, Map<String, String> labels) {
        return RunCreated.newBuilder()
                .setScope(RunScope.shared)
                .setProject(project)
                .setActivation(new Activation(ActivationSurface.operator, "retention-it"))
                .setLabels(labels)
                .build();
    }
}
