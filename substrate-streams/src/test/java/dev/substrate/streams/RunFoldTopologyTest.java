package dev.substrate.streams;

import static dev.substrate.testing.SampleEvents.cancelled;
import static dev.substrate.testing.SampleEvents.created;
import static dev.substrate.testing.SampleEvents.failed;
import static dev.substrate.testing.SampleEvents.labelled;
import static dev.substrate.testing.SampleEvents.resumed;
import static dev.substrate.testing.SampleEvents.run;
import static dev.substrate.testing.SampleEvents.started;
import static dev.substrate.testing.SampleEvents.succeeded;
import static dev.substrate.testing.SampleEvents.timedOut;
import static dev.substrate.testing.SampleEvents.waiting;
import static dev.substrate.testing.SampleEvents.withEventId;
import static org.assertj.core.api.Assertions.assertThat;

import dev.substrate.event.WireCodec;
import dev.substrate.events.run.RunEvent;
import dev.substrate.state.Outcome;
import dev.substrate.state.Rejection;
import dev.substrate.state.RunState;
import dev.substrate.state.RunStatus;
import dev.substrate.streams.internal.StoreNames;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RunFoldTopologyTest {

    private final FoldFixture fold = new FoldFixture();

    @AfterEach
    void close() {
        fold.close();
    }

    @Test
    void shouldFoldAFullLifecycleCountingVersionsAndStampingTransitions() {
        fold.given(
                run("run-1", created()),
                run("run-1", started()),
                run("run-1", waiting()),
                run("run-1", resumed()),
                run("run-1", succeeded()));

        RunState run = fold.run("run-1");
        assertThat(run.getStatus()).isEqualTo(RunStatus.succeeded);
        assertThat(run.getVersion()).isEqualTo(5);
        assertThat(run.getWaitingOn()).isNull();
        assertThat(run.getResult().getSummary()).isEqualTo("done");
        assertThat(run.getTimestamps().getStartedAt()).isNotNull();
        assertThat(run.getTimestamps().getWaitingAt()).isNotNull();
        assertThat(run.getTimestamps().getResumedAt()).isNotNull();
        assertThat(run.getTimestamps().getFinishedAt()).isNotNull();
        assertThat(fold.rejections()).isEmpty();
        assertThat(fold.all(StoreNames.RUN_HISTORY)).hasSize(5).containsKey(StoreNames.sequenceKey("run-1", 5));
    }

    @Test
    void shouldSetWaitingOnWhileWaitingAndClearItOnResume() {
        fold.given(run("run-1", created()), run("run-1", started()), run("run-1", waiting()));
        assertThat(fold.run("run-1").getWaitingOn().getDetail()).isEqualTo("approval from ops");

        fold.given(run("run-1", resumed()));
        assertThat(fold.run("run-1").getWaitingOn()).isNull();
        assertThat(fold.run("run-1").getStatus()).isEqualTo(RunStatus.running);
    }

    @Test
    void shouldRejectStartOfFinishedRunAndChangeNothing() {
        fold.given(run("run-1", created()), run("run-1", started()), run("run-1", failed()));
        RunEvent restart = run("run-1", started());

        fold.given(restart);

        List<Rejection> rejections = fold.rejections();
        assertThat(rejections).singleElement().satisfies(rejection -> {
            assertThat(rejection.getReason()).isEqualTo("illegal_transition");
            assertThat(rejection.getMessage()).contains("failed").contains("terminal");
            assertThat(rejection.getEventId()).isEqualTo(restart.getEventId());
            assertThat(WireCodec.RUN.decode(rejection.getEvent().array())).isEqualTo(restart);
        });
        assertThat(fold.run("run-1").getStatus()).isEqualTo(RunStatus.failed);
        assertThat(fold.run("run-1").getVersion()).isEqualTo(3);
        assertThat(fold.outcome("run", restart.getEventId()).getOutcome()).isEqualTo(Outcome.rejected);
        assertThat(fold.outcome("run", restart.getEventId()).getReason()).isEqualTo("illegal_transition");
    }

    @Test
    void shouldAllowCancelFromQueuedRunningAndWaitingOnly() {
        fold.given(run("q", created()), run("q", cancelled()));
        fold.given(run("r", created()), run("r", started()), run("r", cancelled()));
        fold.given(run("w", created()), run("w", started()), run("w", waiting()), run("w", cancelled()));
        fold.given(run("s", created()), run("s", started()), run("s", succeeded()), run("s", cancelled()));

        assertThat(List.of("q", "r", "w"))
                .allSatisfy(id -> assertThat(fold.run(id).getStatus()).isEqualTo(RunStatus.cancelled));
        assertThat(fold.run("s").getStatus()).isEqualTo(RunStatus.succeeded);
        assertThat(fold.rejections()).extracting(Rejection::getEntityId).containsExactly("s");
    }

    @Test
    void shouldRejectTransitionsTheMachineDoesNotAllow() {
        fold.given(run("run-1", created()));

        fold.given(
                run("run-1", waiting()), run("run-1", resumed()), run("run-1", succeeded()), run("run-1", timedOut()));

        assertThat(fold.rejections())
                .extracting(Rejection::getReason)
                .containsExactly(
                        "illegal_transition", "illegal_transition", "illegal_transition", "illegal_transition");
        assertThat(fold.run("run-1").getStatus()).isEqualTo(RunStatus.queued);
    }

    @Test
    void shouldRejectAnEventWhoseExpectedVersionIsStale() {
        fold.given(run("run-1", created()), run("run-1", started(), 1));
        assertThat(fold.run("run-1").getVersion()).isEqualTo(2);

        fold.given(run("run-1", waiting(), 1));

        assertThat(fold.rejections()).singleElement().satisfies(r -> {
            assertThat(r.getReason()).isEqualTo("version_conflict");
            assertThat(r.getMessage()).contains("expected version 1").contains("version 2");
        });
        assertThat(fold.run("run-1").getStatus()).isEqualTo(RunStatus.running);
    }

    @Test
    void shouldRejectEventsForARunNeverCreatedAndASecondCreate() {
        fold.given(run("ghost", started()), run("run-1", created()), run("run-1", created()));

        assertThat(fold.rejections())
                .extracting(Rejection::getEntityId, Rejection::getReason)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("ghost", "not_found"),
                        org.assertj.core.groups.Tuple.tuple("run-1", "already_exists"));
        assertThat(fold.run("ghost")).isNull();
        assertThat(fold.run("run-1").getVersion()).isEqualTo(1);
    }

    @Test
    void shouldTreatARepeatedEventIdAsAnIdempotentNoOp() {
        RunEvent start = run("run-1", started());
        fold.given(run("run-1", created()), start, withEventId(run("run-1", started()), start.getEventId()));

        assertThat(fold.run("run-1").getVersion()).isEqualTo(2);
        assertThat(fold.rejections()).isEmpty();
        assertThat(fold.outcome("run", start.getEventId()).getOutcome()).isEqualTo(Outcome.applied);
        assertThat(fold.outcome("run", start.getEventId()).getVersion()).isEqualTo(2L);
    }

    @Test
    void shouldRejectAnEventIdReusedForAnotherRun() {
        RunEvent first = run("run-a", created());
        fold.given(first, withEventId(run("run-b", created()), first.getEventId()));

        assertThat(fold.rejections()).singleElement().satisfies(r -> {
            assertThat(r.getReason()).isEqualTo("event_id_reused");
            assertThat(r.getEntityId()).isEqualTo("run-b");
        });
        assertThat(fold.run("run-b")).isNull();
        assertThat(fold.outcome("run", first.getEventId()).getEntityId()).isEqualTo("run-a");
    }

    @Test
    void shouldRejectAnEventKeyedByAnotherIdAndAnInvalidOne() {
        fold.givenKeyed("not-run-1", run("run-1", created()));
        RunEvent badActor =
                RunEvent.newBuilder(run("run-2", created())).setActor(" ").build();
        fold.given(badActor);

        assertThat(fold.rejections())
                .extracting(Rejection::getReason)
                .containsExactly("invalid_event", "invalid_event");
        assertThat(fold.run("run-1")).isNull();
        assertThat(fold.run("run-2")).isNull();
    }

    @Test
    void shouldDeadLetterUnreadableRecordsAndGoOn() {
        fold.givenRawRunRecord("run-x", "not avro at all".getBytes(StandardCharsets.UTF_8));
        byte[] unknownSchema = WireCodec.RUN.encode(run("run-y", created()));
        unknownSchema[4] ^= 0x11;
        fold.givenRawRunRecord("run-y", unknownSchema);
        fold.given(run("run-1", created()));

        assertThat(fold.deadLetters()).hasSize(2).allSatisfy(record -> {
            assertThat(record.headers().lastHeader("__streams.errors.exception"))
                    .isNotNull();
            assertThat(new String(
                            record.headers()
                                    .lastHeader("__streams.errors.message")
                                    .value(),
                            StandardCharsets.UTF_8))
                    .isNotBlank();
        });
        assertThat(fold.run("run-1")).isNotNull();
    }

    @Test
    void shouldPublishEachNewStateToTheCompactedTopic() {
        fold.given(run("run-1", created()), run("run-1", started()), run("run-1", started()));

        assertThat(fold.runStates())
                .extracting(kv -> kv.key, kv -> kv.value.getVersion())
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("run-1", 1L),
                        org.assertj.core.groups.Tuple.tuple("run-1", 2L));
    }

    @Test
    void shouldKeepTheStatusProjectAndLabelIndexesCurrent() {
        fold.given(run("run-1", created()));
        assertThat(fold.indexKeys(StoreNames.RUNS_BY_STATUS, "queued")).hasSize(1);
        assertThat(fold.indexKeys(StoreNames.RUNS_BY_LABEL, "team=payments")).hasSize(1);

        fold.given(run("run-1", started()), run("run-1", labelled(Map.of("tier", "gold"), "team")));

        assertThat(fold.indexKeys(StoreNames.RUNS_BY_STATUS, "queued")).isEmpty();
        assertThat(fold.indexKeys(StoreNames.RUNS_BY_STATUS, "running"))
                .singleElement()
                .asString()
                .endsWith("run-1");
        assertThat(fold.indexKeys(StoreNames.RUNS_BY_PROJECT, "project:acme/web"))
                .hasSize(1);
        assertThat(fold.indexKeys(StoreNames.RUNS_BY_LABEL, "team=payments")).isEmpty();
        assertThat(fold.indexKeys(StoreNames.RUNS_BY_LABEL, "tier=gold")).hasSize(1);
        assertThat(fold.run("run-1").getLabels()).containsExactly(Map.entry("tier", "gold"));
    }

    @Test
    void shouldIndexEachRunByCreationOnce() {
        fold.given(run("run-1", created()), run("run-1", started()), run("run-2", created()));

        java.util.Map<String, String> byCreated = fold.all(StoreNames.RUNS_BY_CREATED);
        assertThat(byCreated.values()).containsExactlyInAnyOrder("run-1", "run-2");
        long createdAt = fold.run("run-1").getTimestamps().getCreatedAt().toEpochMilli();
        assertThat(byCreated).containsKey(StoreNames.timeKey(createdAt, "run-1"));
    }

    @Test
    void shouldForgetOutcomesOlderThanTheRetentionInStreamTime() {
        RunEvent created = run("run-1", created());
        fold.given(created);
        assertThat(fold.outcome("run", created.getEventId())).isNotNull();

        fold.advance(FoldFixture.OUTCOME_RETENTION.plusMinutes(2)).given(run("run-2", created()));
        fold.advance(java.time.Duration.ofMinutes(2)).given(run("run-3", created()));

        assertThat(fold.outcome("run", created.getEventId())).isNull();
    }
}
