package dev.substrate.testing;

import dev.substrate.events.artifact.ArtifactDeleted;
import dev.substrate.events.artifact.ArtifactEvent;
import dev.substrate.events.artifact.ArtifactRegistered;
import dev.substrate.events.artifact.ArtifactRevised;
import dev.substrate.events.artifact.Provenance;
import dev.substrate.events.common.Correlation;
import dev.substrate.events.room.BlockCompleted;
import dev.substrate.events.room.BlockStarted;
import dev.substrate.events.room.BlockUpdated;
import dev.substrate.events.room.EnvironmentStatus;
import dev.substrate.events.room.ErrorRaised;
import dev.substrate.events.room.LogEmitted;
import dev.substrate.events.room.LogLevel;
import dev.substrate.events.room.Member;
import dev.substrate.events.room.MemberGranted;
import dev.substrate.events.room.MemberRevoked;
import dev.substrate.events.room.MetadataUpdated;
import dev.substrate.events.room.RoomClosed;
import dev.substrate.events.room.RoomCreated;
import dev.substrate.events.room.RoomDeleted;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.RoomKind;
import dev.substrate.events.room.RoomRole;
import dev.substrate.events.room.StatusChanged;
import dev.substrate.events.room.StreamMode;
import dev.substrate.events.room.TextDelta;
import dev.substrate.events.room.TurnEnded;
import dev.substrate.events.room.TurnStarted;
import dev.substrate.events.run.Activation;
import dev.substrate.events.run.ActivationSurface;
import dev.substrate.events.run.AnswerStatus;
import dev.substrate.events.run.Failure;
import dev.substrate.events.run.Interrupt;
import dev.substrate.events.run.InterruptAnswer;
import dev.substrate.events.run.Result;
import dev.substrate.events.run.RunCancelled;
import dev.substrate.events.run.RunCreated;
import dev.substrate.events.run.RunEvent;
import dev.substrate.events.run.RunFailed;
import dev.substrate.events.run.RunLabelled;
import dev.substrate.events.run.RunResumed;
import dev.substrate.events.run.RunScope;
import dev.substrate.events.run.RunStarted;
import dev.substrate.events.run.RunSucceeded;
import dev.substrate.events.run.RunTimedOut;
import dev.substrate.events.run.RunWaiting;
import dev.substrate.events.run.WaitingKind;
import dev.substrate.events.run.WaitingOn;
import dev.substrate.events.run.Where;
import dev.substrate.schemas.TrustedEventClasses;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * One valid, fully populated example of every event payload, envelopes around them, and short builders of single
 * events (the fold tests' {@code run(id, created())}, {@code room(id, delta(block, text))}, ...): the one event
 * factory of every test.
 */
public final class SampleEvents {

    static {
        TrustedEventClasses.register();
    }

    /** A fixed time every sample uses. */
    public static final Instant AT = Instant.parse("2026-11-01T10:15:30.123Z");

    private SampleEvents() {}

    /** One example of each of the nine run payloads, in a valid lifecycle order where one exists. */
    public static List<Object> runPayloads() {
        return List.of(
                RunCreated.newBuilder()
                        .setScope(RunScope.shared)
                        .setProject("project:acme/web")
                        .setTaskId("task-42")
                        .setParentRunId("run-parent")
                        .setActivation(new Activation(ActivationSurface.operator, "alice@example.com"))
                        .setLabels(Map.of("team", "payments"))
                        .setSessionRoomId("room-session-1")
                        .setWhere(new Where("agent-runtime", "host-7", "staging"))
                        .build(),
                RunStarted.newBuilder()
                        .setWhere(new Where("agent-runtime", null, null))
                        .build(),
                new RunWaiting(
                        new WaitingOn(WaitingKind.approval, "deploy approval from #ops", AT),
                        List.of(new Interrupt(
                                "approve-deploy",
                                "tool_approval",
                                "Deploy web to production?",
                                "call-7",
                                "{\"type\":\"object\",\"properties\":{\"approved\":{\"type\":\"boolean\"}},"
                                        + "\"required\":[\"approved\"]}",
                                AT.plusSeconds(3600).toString()))),
                new RunResumed(
                        "approved by bob",
                        new InterruptAnswer(
                                "approve-deploy", AnswerStatus.resolved, "{\"approved\":true}", "bob@example.com")),
                new RunLabelled(Map.of("priority", "high"), List.of("team")),
                new RunSucceeded(new Result("PR opened", List.of("artifact-pr-1"))),
                new RunFailed(new Failure("exit_code_1", "tests failed", true, "FAILED: 3 tests")),
                new RunCancelled("superseded"),
                new RunTimedOut("exceeded 30m"));
    }

    /** One example of each of the fifteen room payloads. */
    public static List<Object> roomPayloads() {
        return List.of(
                RoomCreated.newBuilder()
                        .setKind(RoomKind.session)
                        .setProject("project:acme/web")
                        .setRunId("run-1")
                        .setStream(StreamMode.durable)
                        .setTitle("Fix the login bug")
                        .setMembers(List.of(new Member("alice@example.com", RoomRole.owner)))
                        .build(),
                new MemberGranted(new Member("bob@example.com", RoomRole.writer)),
                new MemberRevoked("bob@example.com"),
                new TurnStarted("turn-1", "assistant"),
                BlockStarted.newBuilder()
                        .setBlockId("block-1")
                        .setTurnId("turn-1")
                        .setKind("text")
                        .setRole("assistant")
                        .setMetadata(Map.of("model", "m-1"))
                        .build(),
                new TextDelta("block-1", "Hello, "),
                new BlockUpdated("block-1", Map.of("tokens", "12")),
                new BlockCompleted("block-1", null),
                new TurnEnded("turn-1", "end_turn"),
                new MetadataUpdated(Map.of("branch", "fix/login")),
                new StatusChanged(EnvironmentStatus.ready, "container up"),
                new LogEmitted(LogLevel.info, "npm test: 120 passed"),
                new ErrorRaised("oom", "the sandbox ran out of memory"),
                new RoomClosed("done"),
                new RoomDeleted("cleanup", false, null, false));
    }

    /** One example of each of the three artifact payloads. */
    public static List<Object> artifactPayloads() {
        return List.of(
                ArtifactRegistered.newBuilder()
                        .setKind("pull_request")
                        .setName("Fix login")
                        .setParentId("project:acme/web")
                        .setLocator("https://git.example.com/acme/web/pull/7")
                        .setDigest("sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
                        .setSize(2048L)
                        .setMediaType("text/markdown")
                        .setRemoteId("7")
                        .setLabels(Map.of("kind", "fix"))
                        .setProvenance(new Provenance("run-1", "room-session-1", "acme/web"))
                        .build(),
                ArtifactRevised.newBuilder()
                        .setRemoteId("8")
                        .setNote("reopened")
                        .build(),
                new ArtifactDeleted("obsolete"));
    }

    /** A run event around {@code payload}, with a fresh event id. */
    public static RunEvent runEvent(String runId, Object payload) {
        return RunEvent.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setRunId(runId)
                .setOccurredAt(AT)
                .setActor("svc:runner")
                .setCorrelation(correlation())
                .setPayload(payload)
                .build();
    }

    /** A room event around {@code payload}, with a fresh event id. */
    public static RoomEvent roomEvent(String roomId, Object payload) {
        return RoomEvent.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setRoomId(roomId)
                .setOccurredAt(AT)
                .setActor("alice@example.com")
                .setCorrelation(correlation())
                .setPayload(payload)
                .build();
    }

    /** An artifact event around {@code payload}, with a fresh event id. */
    public static ArtifactEvent artifactEvent(String artifactId, Object payload) {
        return ArtifactEvent.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setArtifactId(artifactId)
                .setOccurredAt(AT)
                .setActor("svc:runner")
                .setCorrelation(correlation())
                .setExpectedVersion(0L)
                .setPayload(payload)
                .build();
    }

    // --- short builders of single events, for the fold's tests ---

    public static RunEvent run(String runId, Object payload) {
        return runEvent(runId, payload);
    }

    public static RunEvent run(String runId, Object payload, long expectedVersion) {
        return RunEvent.newBuilder(run(runId, payload))
                .setExpectedVersion(expectedVersion)
                .build();
    }

    public static RunEvent withEventId(RunEvent event, String eventId) {
        return RunEvent.newBuilder(event).setEventId(eventId).build();
    }

    public static Object created() {
        return runPayloads().get(0);
    }

    public static Object started() {
        return new RunStarted(null);
    }

    public static Object waiting() {
        return new RunWaiting(new WaitingOn(WaitingKind.approval, "approval from ops", AT), List.of());
    }

    /** A RunWaiting that raises {@code interrupts} (on a waiting run: raises more). */
    public static Object waiting(Interrupt... interrupts) {
        return new RunWaiting(new WaitingOn(WaitingKind.input, "answers", AT), List.of(interrupts));
    }

    /** An interrupt asking for {@code responseSchema} (JSON text, or null for any answer), never expiring. */
    public static Interrupt interrupt(String interruptId, String responseSchema) {
        return new Interrupt(interruptId, "input", "answer me", null, responseSchema, null);
    }

    public static Object resumed() {
        return new RunResumed("approved", null);
    }

    /** A RunResumed that answers one interrupt. */
    public static Object answer(String interruptId, AnswerStatus status, String payload) {
        return new RunResumed(null, new InterruptAnswer(interruptId, status, payload, null));
    }

    public static Object succeeded() {
        return new RunSucceeded(new Result("done", List.of("artifact-1")));
    }

    public static Object failed() {
        return new RunFailed(new Failure("exit_1", "boom", false, null));
    }

    public static Object cancelled() {
        return new RunCancelled("no longer needed");
    }

    public static Object timedOut() {
        return new RunTimedOut("30m");
    }

    public static Object labelled(Map<String, String> set, String... removed) {
        return new RunLabelled(set, Arrays.asList(removed));
    }

    public static RoomEvent room(String roomId, Object payload) {
        return roomEvent(roomId, payload);
    }

    public static RoomEvent room(String roomId, Object payload, String actor) {
        return RoomEvent.newBuilder(room(roomId, payload)).setActor(actor).build();
    }

    public static RoomCreated roomCreated(RoomKind kind, StreamMode stream, Member... members) {
        return RoomCreated.newBuilder()
                .setKind(kind)
                .setProject("project:acme/web")
                .setRunId("run-1")
                .setStream(stream)
                .setMembers(Arrays.asList(members))
                .build();
    }

    public static Member member(String principal, RoomRole role) {
        return new Member(principal, role);
    }

    public static Object grant(String principal, RoomRole role) {
        return new MemberGranted(new Member(principal, role));
    }

    public static Object revoke(String principal) {
        return new MemberRevoked(principal);
    }

    public static Object turnStarted(String turnId) {
        return new TurnStarted(turnId, "assistant");
    }

    public static Object turnEnded(String turnId) {
        return new TurnEnded(turnId, "end_turn");
    }

    public static Object blockStarted(String blockId, String turnId) {
        return BlockStarted.newBuilder()
                .setBlockId(blockId)
                .setTurnId(turnId)
                .setKind("text")
                .setRole("assistant")
                .build();
    }

    public static Object delta(String blockId, String text) {
        return new TextDelta(blockId, text);
    }

    public static Object blockCompleted(String blockId) {
        return new BlockCompleted(blockId, null);
    }

    public static Object status(EnvironmentStatus status, String message) {
        return new StatusChanged(status, message);
    }

    public static Object log(String message) {
        return new LogEmitted(LogLevel.info, message);
    }

    public static Object error(String code, String message) {
        return new ErrorRaised(code, message);
    }

    public static Object closed() {
        return new RoomClosed("done");
    }

    public static Object deleted() {
        return new RoomDeleted("gone", false, null, false);
    }

    public static ArtifactEvent artifact(String artifactId, Object payload) {
        return ArtifactEvent.newBuilder(artifactEvent(artifactId, payload))
                .setExpectedVersion(null)
                .build();
    }

    public static Object registered() {
        return artifactPayloads().get(0);
    }

    public static Object revised(String locator, String note) {
        return ArtifactRevised.newBuilder().setLocator(locator).setNote(note).build();
    }

    public static Object artifactDeleted() {
        return new ArtifactDeleted("obsolete");
    }

    private static Correlation correlation() {
        return new Correlation("work-1", null, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    }
}
