package dev.substrate.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.substrate.client.SubstrateClient;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.entity.EntityKind;
import dev.substrate.event.WireCodec;
import dev.substrate.fold.FoldLimits;
import dev.substrate.fold.UsageTotals;
import dev.substrate.state.UsageTotal;
import dev.substrate.testing.KafkaCluster;
import dev.substrate.testing.SharedKafka;
import dev.substrate.testing.TestRecords;
import dev.substrate.testing.TestSettings;
import dev.substrate.topic.TopicSetup;
import dev.substrate.topic.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fold is deterministic: a second application replaying the same logs into topics of its own produces the
 * same compacted state, record by record, and the same rejections.
 */
@ExtendWith(SharedKafka.class)
@Timeout(600)
class FoldRebuildIT {

    @TempDir
    Path first;

    @TempDir
    Path second;

    @Test
    void rebuildFromLogYieldsSameState(KafkaCluster kafka) throws Exception {
        String prefix = "rebuild" + UUID.randomUUID().toString().substring(0, 6) + ".";
        Topics original = new Topics(prefix, 1024 * 1024);
        Topics rebuilt = new Topics(prefix, prefix + "rebuilt.", 1024 * 1024);
        try (Admin admin = kafka.admin()) {
            TopicSetup.ensure(admin, original, 3, (short) -1);
            TopicSetup.ensure(admin, rebuilt, 3, (short) -1);
        }
        SubstrateConfig firstConfig = config(kafka, prefix, first, prefix + "first");
        SubstrateConfig secondConfig = config(kafka, prefix, second, prefix + "second");
        Workload workload = Workload.of(100);
        try (SubstrateClient client = SubstrateClient.create(firstConfig)) {
            List<CompletableFuture<?>> acks = new ArrayList<>();
            workload.events.forEach(event -> acks.add(FoldLoadIT.append(client, event)));
            CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).join();
        }
        List<String> logs = List.of(
                original.runEvents().name(),
                original.roomEvents().name(),
                original.artifactEvents().name());

        try (Admin admin = kafka.admin()) {
            try (SubstrateFold fold = SubstrateFold.start(firstConfig)) {
                FoldProgress.awaitCaughtUp(admin, fold.applicationId(), logs, Duration.ofMinutes(4));
                usageAddsUp(fold, workload);
            }
            try (SubstrateFold fold = SubstrateFold.start(secondConfig, settings(rebuilt))) {
                FoldProgress.awaitCaughtUp(admin, fold.applicationId(), logs, Duration.ofMinutes(4));
                usageAddsUp(fold, workload);
            }
        }

        for (String topic : List.of("runs", "rooms", "artifacts")) {
            Map<String, String> before = TestRecords.latestByKey(kafka, prefix + topic);
            Map<String, String> after = TestRecords.latestByKey(kafka, prefix + "rebuilt." + topic);
            assertThat(after).as(topic).isNotEmpty().isEqualTo(before);
        }
        assertThat(TestRecords.latestByKey(kafka, prefix + "artifacts"))
                .hasSize(workload.artifacts - workload.deletedArtifacts);
        List<String> rejectionsBefore = rejections(kafka, original.rejections().name());
        assertThat(rejectionsBefore).hasSize(workload.refusals);
        assertThat(rejections(kafka, rebuilt.rejections().name()))
                .containsExactlyInAnyOrderElementsOf(rejectionsBefore);
    }

    /**
     * The usage stores' sums, by every grouping and with filters, equal a brute-force sum of the usage the workload's
     * applied events carried (the refused ones' left out).
     */
    private static void usageAddsUp(SubstrateFold fold, Workload workload) {
        assertThat(workload.usage).hasSizeGreaterThan(500);
        for (UsageQuery.GroupBy groupBy : UsageQuery.GroupBy.values()) {
            UsageQuery everything = new UsageQuery(null, project -> true, null, null, null, groupBy, null);
            assertThat(sums(fold, everything)).as(groupBy.name()).isEqualTo(bruteForce(workload, everything));
        }
        UsageQuery narrowed = new UsageQuery(
                "project:acme/web",
                project -> true,
                "2026-11-02",
                "2026-11-03",
                java.util.Set.of("run-1", "run-2", "run-4", "run-5"),
                UsageQuery.GroupBy.DAY,
                null);
        assertThat(sums(fold, narrowed)).isNotEmpty().isEqualTo(bruteForce(workload, narrowed));
        UsageQuery hidden = new UsageQuery(
                null,
                project -> project.equals("project:acme/api"),
                null,
                null,
                null,
                UsageQuery.GroupBy.PROJECT,
                null);
        assertThat(sums(fold, hidden).keySet()).containsExactly("project:acme/api");
    }

    private static Map<String, String> sums(SubstrateFold fold, UsageQuery query) {
        Map<String, UsageTotal> sums = new TreeMap<>();
        for (EntityKind<?, ?> kind : List.of(EntityKind.RUN, EntityKind.ROOM)) {
            fold.queries()
                    .usage(kind, query, Long.MAX_VALUE)
                    .groups()
                    .forEach((key, total) -> sums.merge(key, total, UsageTotals::plus));
        }
        return figures(sums);
    }

    private static Map<String, String> bruteForce(Workload workload, UsageQuery query) {
        Map<String, UsageTotal> sums = new TreeMap<>();
        for (Workload.Counted counted : workload.usage) {
            UsageQuery.Key key = new UsageQuery.Key(
                    counted.project(), counted.day(), counted.usage().getModel(), counted.runId());
            if (query.counts(key)) {
                sums.merge(query.groupBy().of(key), UsageTotals.of(counted.usage()), UsageTotals::plus);
            }
        }
        return figures(sums);
    }

    /** Each group's figures as text: tokens, events and costs (the model a sum keeps is the first one added). */
    private static Map<String, String> figures(Map<String, UsageTotal> sums) {
        Map<String, String> figures = new TreeMap<>();
        sums.forEach((key, total) -> figures.put(
                key,
                total.getEvents() + " " + total.getInputTokens() + " " + total.getOutputTokens() + " "
                        + total.getCachedInputTokens() + " " + total.getReasoningTokens() + " "
                        + new TreeMap<>(total.getCost())
                                .entrySet().stream()
                                        .map(cost -> new java.math.BigDecimal(cost.getValue()).stripTrailingZeros()
                                                + cost.getKey())
                                        .toList()));
        return figures;
    }

    private static SubstrateConfig config(KafkaCluster kafka, String prefix, Path dataDir, String applicationId) {
        return SubstrateConfig.of(TestSettings.of(kafka, prefix, dataDir, applicationId));
    }

    private static FoldSettings settings(Topics topics) {
        return new FoldSettings(
                topics, FoldLimits.of(1024 * 1024), Duration.ofDays(7), Duration.ofDays(7), Duration.ofMinutes(1));
    }

    private static List<String> rejections(KafkaCluster kafka, String topic) {
        return TestRecords.readAll(kafka, topic).stream()
                .map(record -> WireCodec.REJECTION.decode(record.value()))
                .map(r -> r.getEventId() + " " + r.getReason() + " " + r.getOffset())
                .toList();
    }
}
