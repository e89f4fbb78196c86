package dev.substrate.streams;

import dev.substrate.events.artifact.ArtifactDeleted;
import dev.substrate.events.artifact.ArtifactEvent;
import dev.substrate.events.artifact.ArtifactRevised;
import dev.substrate.events.room.BlockCompleted;
import dev.substrate.events.room.BlockStarted;
import dev.substrate.events.room.EnvironmentStatus;
import dev.substrate.events.room.ErrorRaised;
import dev.substrate.events.room.LogEmitted;
import dev.substrate.events.room.LogLevel;
import dev.substrate.events.room.Member;
import dev.substrate.events.room.MemberGranted;
import dev.substrate.events.room.MemberRevoked;
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
import dev.substrate.events.run.Failure;
import dev.substrate.events.run.Result;
import dev.substrate.events.run.RunCancelled;
import dev.substrate.events.run.RunEvent;
import dev.substrate.events.run.RunFailed;
import dev.substrate.events.run.RunLabelled;
import dev.substrate.events.run.RunResumed;
import dev.substrate.events.run.RunStarted;
import dev.substrate.events.run.RunSucceeded;
import dev.substrate.events.run.RunTimedOut;
import dev.substrate.events.run.RunWaiting;
import dev.substrate.events.run.WaitingKind;
import dev.substrate.events.run.WaitingOn;
import dev.substrate.testing.SampleEvents;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Short builders of the events the fold tests feed. */
final class Events {

    private Events() {}

    static RunEvent run(String runId, Object payload) {
        return SampleEvents.runEvent(runId, payload);
    }

    static RunEvent run(String runId, Object payload, long expectedVersion) {
        return RunEvent.newBuilder(run(runId, payload))
                .setExpectedVersion(expectedVersion)
                .build();
    }

    static RunEvent withEventId(RunEvent event, String eventId) {
        return RunEvent.newBuilder(event).setEventId(eventId).build();
    }

    static Object created() {
        return SampleEvents.runPayloads().get(0);
    }

    static Object started() {
        return new RunStarted(null);
    }

    static Object waiting() {
        return new RunWaiting(new WaitingOn(WaitingKind.approval, "approval from ops", SampleEvents.AT));
    }

    static Object resumed() {
        return new RunResumed("approved");
    }

    static Object succeeded() {
        return new RunSucceeded(new Result("done", List.of("artifact-1")));
    }

    static Object failed() {
        return new RunFailed(new Failure("exit_1", "boom", false, null));
    }

    static Object cancelled() {
        return new RunCancelled("no longer needed");
    }

    static Object timedOut() {
        return new RunTimedOut("30m");
    }

    static Object labelled(Map<String, String> set, String... removed) {
        return new RunLabelled(set, Arrays.asList(removed));
    }

    static RoomEvent room(String roomId, Object payload) {
        return SampleEvents.roomEvent(roomId, payload);
    }

    static RoomEvent room(String roomId, Object payload, String actor) {
        return RoomEvent.newBuilder(room(roomId, payload)).setActor(actor).build();
    }

    static RoomCreated roomCreated(RoomKind kind, StreamMode stream, Member... members) {
        return RoomCreated.newBuilder()
                .setKind(kind)
                .setProject("project:acme/web")
                .setRunId("run-1")
                .setStream(stream)
                .setMembers(Arrays.asList(members))
                .build();
    }

    static Member member(String principal, RoomRole role) {
        return new Member(principal, role);
    }

    static Object grant(String principal, RoomRole role) {
        return new MemberGranted(new Member(principal, role));
    }

    static Object revoke(String principal) {
        return new MemberRevoked(principal);
    }

    static Object turnStarted(String turnId) {
        return new TurnStarted(turnId, "assistant");
    }

    static Object turnEnded(String turnId) {
        return new TurnEnded(turnId, "end_turn");
    }

    static Object blockStarted(String blockId, String turnId) {
        return BlockStarted.newBuilder()
                .setBlockId(blockId)
                .setTurnId(turnId)
                .setKind("text")
                .setRole("assistant")
                .build();
    }

    static Object delta(String blockId, String text) {
        return new TextDelta(blockId, text);
    }

    static Object blockCompleted(String blockId) {
        return new BlockCompleted(blockId, null);
    }

    static Object status(EnvironmentStatus status, String message) {
        return new StatusChanged(status, message);
    }

    static Object log(String message) {
        return new LogEmitted(LogLevel.info, message);
    }

    static Object error(String code, String message) {
        return new ErrorRaised(code, message);
    }

    static Object closed() {
        return new RoomClosed("done");
    }

    static Object deleted() {
        return new RoomDeleted("gone", false);
    }

    static ArtifactEvent artifact(String artifactId, Object payload) {
        return ArtifactEvent.newBuilder(SampleEvents.artifactEvent(artifactId, payload))
                .setExpectedVersion(null)
                .build();
    }

    static Object registered() {
        return SampleEvents.artifactPayloads().get(0);
    }

    static Object revised(String locator, String note) {
        return ArtifactRevised.newBuilder().setLocator(locator).setNote(note).build();
    }

    static Object artifactDeleted() {
        return new ArtifactDeleted("obsolete");
    }
}
