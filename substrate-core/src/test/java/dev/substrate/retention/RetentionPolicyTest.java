package dev.substrate.retention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.substrate.events.room.MetadataUpdated;
import dev.substrate.events.room.RoomClosed;
import dev.substrate.events.room.RoomCreated;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.RoomKind;
import dev.substrate.events.room.StreamMode;
import dev.substrate.events.run.Failure;
import dev.substrate.events.run.Result;
import dev.substrate.events.run.RunEvent;
import dev.substrate.fold.Decision;
import dev.substrate.fold.FoldLimits;
import dev.substrate.fold.RoomChange;
import dev.substrate.fold.RoomFold;
import dev.substrate.fold.RunFold;
import dev.substrate.state.RoomState;
import dev.substrate.state.RunState;
import dev.substrate.state.RunStatus;
import dev.substrate.testing.SampleEvents;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

@SuppressWarnings("unchecked")
class RetentionPolicyTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Instant NOW = Instant.parse("2026-12-06T12:00:00Z");

    static {
        dev.substrate.schemas.TrustedEventClasses.register();
    }

    @Test
    void aRunPolicyDeletesFinishedRunsOfItsProjectsPastItsAgeUnlessKept() throws Exception {
        RetentionPolicy policy =
                policy("{\"applies\": \"runs\", \"projects\": [\"project:acme/*\"], \"olderThan\": \"30d\","
                        + " \"keep\": [\"pinned\", \"legal=hold\"]}");
        Instant old = NOW.minus(Duration.ofDays(31));
        assertThat(policy.deletes(run("project:acme/web", RunStatus.failed, old, Map.of()), NOW))
                .isTrue();
        assertThat(policy.deletes(run("project:acme/web", RunStatus.running, old, Map.of()), NOW))
                .isFalse();
        assertThat(policy.deletes(run("project:other", RunStatus.failed, old, Map.of()), NOW))
                .isFalse();
        assertThat(policy.deletes(
                        run("project:acme/web", RunStatus.failed, NOW.minus(Duration.ofDays(29)), Map.of()), NOW))
                .isFalse();
        assertThat(policy.deletes(run("project:acme/web", RunStatus.failed, old, Map.of("pinned", "")), NOW))
                .isFalse();
        assertThat(policy.deletes(run("project:acme/web", RunStatus.failed, old, Map.of("legal", "hold")), NOW))
                .isFalse();
        assertThat(policy.deletes(run("project:acme/web", RunStatus.failed, old, Map.of("legal", "no")), NOW))
                .isTrue();
    }

    @Test
    void aDisabledPolicyIsPlannedButNotApplied() throws Exception {
        RetentionPolicy policy = policy("{\"applies\": \"runs\", \"olderThan\": \"1d\", \"enabled\": false}");
        RunState run = run("project:x", RunStatus.succeeded, NOW.minus(Duration.ofDays(2)), Map.of());
        assertThat(policy.deletes(run, NOW)).isFalse();
        assertThat(policy.appliesTo(run, NOW)).isTrue();
        assertThat(RetentionPolicies.of(java.util.List.of(policy)).deleting(run, NOW))
                .isEmpty();
    }

    @Test
    void aRoomPolicyDeletesClosedRoomsOfItsKindPastItsAge() throws Exception {
        RetentionPolicy policy = policy("{\"applies\": \"sessions\", \"olderThan\": \"12h\", \"keep\": [\"keep\"]}");
        Instant closed = NOW.minus(Duration.ofHours(13));
        assertThat(policy.deletes(room(RoomKind.session, closed, Map.of()), NOW))
                .isTrue();
        assertThat(policy.deletes(room(RoomKind.conversation, closed, Map.of()), NOW))
                .isFalse();
        assertThat(policy.deletes(room(RoomKind.session, null, Map.of()), NOW)).isFalse();
        assertThat(policy.deletes(room(RoomKind.session, closed, Map.of("keep", "1")), NOW))
                .isFalse();
    }

    @Test
    void aPolicyRoundTripsThroughItsJson() throws Exception {
        RetentionPolicy policy = policy(
                "{\"applies\": \"runs\", \"olderThan\": \"90m\", \"statuses\": [\"failed\"], \"keep\": [\"k=v\"]}");
        RetentionPolicy read = RetentionPolicy.read(policy.toJson());
        assertThat(read).isEqualTo(policy);
        assertThat(read.toJson().path("olderThan").asText()).isEqualTo("90m");
    }

    @Test
    void aBadPolicyNamesTheFieldAtFault() {
        assertRefused("{\"applies\": \"everything\", \"olderThan\": \"1d\"}", "applies");
        assertRefused("{\"applies\": \"runs\", \"olderThan\": \"a while\"}", "olderThan");
        assertRefused("{\"applies\": \"runs\", \"olderThan\": \"0s\"}", "olderThan");
        assertRefused("{\"applies\": \"runs\", \"olderThan\": \"1d\", \"statuses\": [\"running\"]}", "statuses");
        assertRefused("{\"applies\": \"sessions\", \"olderThan\": \"1d\", \"statuses\": [\"failed\"]}", "statuses");
        assertRefused("{\"applies\": \"runs\", \"olderThan\": \"1d\", \"projects\": []}", "projects");
        assertRefused("{\"applies\": \"runs\", \"olderThan\": \"1d\", \"keep\": [\"=v\"]}", "keep");
        assertRefused("{\"applies\": \"runs\", \"olderThan\": \"1d\", \"enabled\": \"yes\"}", "enabled");
        assertThatThrownBy(() -> RetentionPolicy.fromJson("Bad Id", JSON.readTree("{}"), "a", NOW))
                .isInstanceOfSatisfying(
                        InvalidPolicy.class, e -> assertThat(e.field()).isEqualTo("id"));
    }

    private static void assertRefused(String json, String field) {
        assertThatThrownBy(() -> policy(json)).isInstanceOfSatisfying(InvalidPolicy.class, e -> {
            assertThat(e.field()).isEqualTo(field);
            assertThat(e.isRetriable()).isFalse();
        });
    }

    private static RetentionPolicy policy(String json) throws Exception {
        JsonNode node = JSON.readTree(json);
        return RetentionPolicy.fromJson("p1", node, "admin", NOW);
    }

    private static RunState run(String project, RunStatus status, Instant updatedAt, Map<String, String> labels) {
        RunState run = runAfter(
                null,
                dev.substrate.events.run.RunCreated.newBuilder()
                        .setScope(dev.substrate.events.run.RunScope.shared)
                        .setProject(project)
                        .setActivation(new dev.substrate.events.run.Activation(
                                dev.substrate.events.run.ActivationSurface.operator, "test"))
                        .setLabels(labels)
                        .build(),
                updatedAt);
        run = runAfter(run, new dev.substrate.events.run.RunStarted(null), updatedAt);
        if (status == RunStatus.failed) {
            run = runAfter(
                    run,
                    new dev.substrate.events.run.RunFailed(new Failure("exit_code_1", "x", false, null)),
                    updatedAt);
        } else if (status == RunStatus.succeeded) {
            run = runAfter(run, new dev.substrate.events.run.RunSucceeded(new Result("ok", List.of())), updatedAt);
        }
        assertThat(run.getStatus()).isEqualTo(status);
        return run;
    }

    private static RunState runAfter(RunState run, Object payload, Instant at) {
        RunEvent event = RunEvent.newBuilder(SampleEvents.runEvent("run-1", payload))
                .setOccurredAt(at)
                .build();
        return ((Decision.Applied<RunState>) RunFold.apply(run, event)).state();
    }

    private static RoomState room(RoomKind kind, Instant closedAt, Map<String, String> metadata) {
        RoomState room = roomAfter(
                null,
                RoomCreated.newBuilder()
                        .setKind(kind)
                        .setProject("project:x")
                        .setStream(StreamMode.durable)
                        .build(),
                NOW.minus(Duration.ofDays(9)));
        if (!metadata.isEmpty()) {
            room = roomAfter(room, new MetadataUpdated(metadata), NOW.minus(Duration.ofDays(9)));
        }
        return closedAt == null ? room : roomAfter(room, new RoomClosed("done"), closedAt);
    }

    private static RoomState roomAfter(RoomState room, Object payload, Instant at) {
        RoomEvent event = RoomEvent.newBuilder(SampleEvents.roomEvent("room-1", payload))
                .setOccurredAt(at)
                .setActor(null)
                .build();
        return ((Decision.Applied<RoomChange>) RoomFold.apply(room, event, 0, FoldLimits.of(1024 * 1024)))
                .state()
                .state();
    }
}
