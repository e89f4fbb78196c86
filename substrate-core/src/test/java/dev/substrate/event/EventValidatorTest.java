package dev.substrate.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.substrate.events.artifact.ArtifactEvent;
import dev.substrate.events.artifact.ArtifactRegistered;
import dev.substrate.events.artifact.ArtifactRevised;
import dev.substrate.events.common.Correlation;
import dev.substrate.events.common.Cost;
import dev.substrate.events.common.Usage;
import dev.substrate.events.room.Member;
import dev.substrate.events.room.RoomCreated;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.RoomRole;
import dev.substrate.events.run.RunEvent;
import dev.substrate.events.run.RunFailed;
import dev.substrate.events.run.RunLabelled;
import dev.substrate.testing.SampleEvents;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EventValidatorTest {

    private static final Instant NOW = SampleEvents.AT.plus(Duration.ofDays(1));
    private final EventValidator validator =
            new EventValidator(EventValidator.DEFAULT_MAX_EVENT_BYTES, Clock.fixed(NOW, ZoneOffset.UTC));

    @Test
    void acceptsEverySample() {
        SampleEvents.runPayloads().forEach(p -> validator.validate(SampleEvents.runEvent("run-1", p)));
        SampleEvents.roomPayloads().forEach(p -> validator.validate(SampleEvents.roomEvent("room-1", p)));
        SampleEvents.artifactPayloads().forEach(p -> validator.validate(SampleEvents.artifactEvent("a-1", p)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "has space", "slash/not-allowed", "émile", "x\ny"})
    void refusesABadEntityIdNamingTheField(String runId) {
        RunEvent event = started(b -> b.setRunId(runId));

        assertRefused(() -> validator.validate(event), "runId");
    }

    @Test
    void idCheckAgreesWithTheDocumentedPatternOnRandomStrings() {
        Random random = new Random(42);
        String alphabet = "aZ09._:-/ @\u00e9\n";
        for (int i = 0; i < 20_000; i++) {
            StringBuilder candidate = new StringBuilder();
            int length = random.nextInt(4) == 0 ? 120 + random.nextInt(20) : random.nextInt(6);
            for (int j = 0; j < length; j++) {
                candidate.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            String id = candidate.toString();
            boolean accepted;
            try {
                EventValidator.id("id", id);
                accepted = true;
            } catch (InvalidEvent e) {
                accepted = false;
            }
            assertThat(accepted)
                    .as("'%s'", id)
                    .isEqualTo(EventValidator.ID.matcher(id).matches());
        }
    }

    @Test
    void refusesAnIdLongerThan128Characters() {
        RunEvent event = SampleEvents.runEvent(
                "r".repeat(129), SampleEvents.runPayloads().get(1));

        assertRefused(() -> validator.validate(event), "runId");
        assertThatCode(() -> validator.validate(SampleEvents.runEvent(
                        "r".repeat(128), SampleEvents.runPayloads().get(1))))
                .doesNotThrowAnyException();
    }

    @Test
    void refusesAFutureTimestampBeyondTheAllowedSkew() {
        RunEvent event = started(b -> b.setOccurredAt(NOW.plus(Duration.ofMinutes(6))));

        assertRefused(() -> validator.validate(event), "occurredAt");
        validator.validate(started(b -> b.setOccurredAt(NOW.plus(Duration.ofMinutes(4)))));
    }

    @Test
    void refusesATimestampBefore2000() {
        RunEvent event = started(b -> b.setOccurredAt(Instant.EPOCH));

        assertRefused(() -> validator.validate(event), "occurredAt");
    }

    @Test
    void refusesAMalformedTraceparent() {
        RunEvent event = started(b -> b.setCorrelation(new Correlation(null, null, "not-a-trace")));

        assertRefused(() -> validator.validate(event), "correlation.traceparent");
    }

    @Test
    void refusesANegativeExpectedVersion() {
        RunEvent event = started(b -> b.setExpectedVersion(-1L));

        assertRefused(() -> validator.validate(event), "expectedVersion");
    }

    @Test
    void refusesABlankFailureMessageAndABadCode() {
        RunEvent blank = SampleEvents.runEvent(
                "run-1",
                RunFailed.newBuilder()
                        .setFailure(new dev.substrate.events.run.Failure("exit_1", "  ", false, null))
                        .build());
        RunEvent badCode = SampleEvents.runEvent(
                "run-1",
                RunFailed.newBuilder()
                        .setFailure(new dev.substrate.events.run.Failure("exit code 1", "boom", false, null))
                        .build());

        assertRefused(() -> validator.validate(blank), "payload.failure.message");
        assertRefused(() -> validator.validate(badCode), "payload.failure.code");
    }

    @Test
    void refusesALabelChangeThatChangesNothingAndBadLabelKeys() {
        assertRefused(
                () -> validator.validate(SampleEvents.runEvent("run-1", new RunLabelled(Map.of(), List.of()))),
                "payload.labels");
        assertRefused(
                () -> validator.validate(
                        SampleEvents.runEvent("run-1", new RunLabelled(Map.of("a b", "c"), List.of()))),
                "payload.labels");
    }

    @Test
    void refusesTooManyLabels() {
        Map<String, String> labels = new HashMap<>();
        for (int i = 0; i < 65; i++) {
            labels.put("k" + i, "v");
        }

        assertRefused(
                () -> validator.validate(SampleEvents.runEvent("run-1", new RunLabelled(labels, List.of()))),
                "payload.labels");
    }

    @Test
    void refusesARoomWithADuplicateMember() {
        RoomEvent event = SampleEvents.roomEvent(
                "room-1",
                RoomCreated.newBuilder()
                        .setKind(dev.substrate.events.room.RoomKind.conversation)
                        .setProject("project:acme/web")
                        .setMembers(List.of(new Member("alice", RoomRole.owner), new Member("alice", RoomRole.reader)))
                        .build());

        assertRefused(() -> validator.validate(event), "payload.members[1].principal");
    }

    @Test
    void refusesABadProjectScope() {
        RoomEvent event = SampleEvents.roomEvent(
                "room-1",
                RoomCreated.newBuilder()
                        .setKind(dev.substrate.events.room.RoomKind.conversation)
                        .setProject("acme web")
                        .build());

        assertRefused(() -> validator.validate(event), "payload.project");
    }

    @Test
    void refusesAnActorWithControlCharacters() {
        RunEvent event = started(b -> b.setActor("alice\u0000"));

        assertRefused(() -> validator.validate(event), "actor");
    }

    @Test
    void refusesArtifactLocatorDigestSizeAndMediaTypeThatAreMalformed() {
        ArtifactRegistered registered =
                (ArtifactRegistered) SampleEvents.artifactPayloads().get(0);
        assertRefused(
                () -> validator.validate(artifact(ArtifactRegistered.newBuilder(registered)
                        .setLocator("no scheme here")
                        .build())),
                "payload.locator");
        assertRefused(
                () -> validator.validate(artifact(ArtifactRegistered.newBuilder(registered)
                        .setDigest("md5-xyz")
                        .build())),
                "payload.digest");
        assertRefused(
                () -> validator.validate(
                        artifact(ArtifactRevised.newBuilder().setSize(-1L).build())),
                "payload.size");
        assertRefused(
                () -> validator.validate(artifact(
                        ArtifactRevised.newBuilder().setMediaType("markdown").build())),
                "payload.mediaType");
    }

    @Test
    void refusesAnEventLargerThanTheLimit() {
        EventValidator small = new EventValidator(4096, Clock.systemUTC());

        assertRefused(() -> small.checkSize(4097), "event");
        small.checkSize(4096);
    }

    @Test
    void acceptsUsageAtItsLimitsOnRunsAndRooms() {
        Usage most = Usage.newBuilder()
                .setProvider("p".repeat(256))
                .setModel("m".repeat(256))
                .setInputTokens(EventValidator.MAX_USAGE_TOKENS)
                .setOutputTokens(EventValidator.MAX_USAGE_TOKENS)
                .setCachedInputTokens(EventValidator.MAX_USAGE_TOKENS)
                .setReasoningTokens(EventValidator.MAX_USAGE_TOKENS)
                .setCost(new Cost(EventValidator.MAX_USAGE_COST, "EUR"))
                .build();
        assertThatCode(() -> validator.validate(started(b -> b.setUsage(most)))).doesNotThrowAnyException();
        RoomEvent turnEnded = RoomEvent.newBuilder(SampleEvents.roomEvent("room-1", SampleEvents.turnEnded("t1")))
                .setUsage(Usage.newBuilder().setModel("m").build())
                .build();
        assertThatCode(() -> validator.validate(turnEnded)).doesNotThrowAnyException();
        // An empty RunLabelled is a run's usage report on its own; without usage it says nothing and is refused.
        RunEvent report = SampleEvents.runEvent("run-1", new RunLabelled(Map.of(), List.of()));
        assertRefused(() -> validator.validate(report), "payload.labels");
        assertThatCode(() -> validator.validate(RunEvent.newBuilder(report)
                        .setUsage(Usage.newBuilder().setModel("m").build())
                        .build()))
                .doesNotThrowAnyException();
    }

    @Test
    void refusesUsageThatCannotBeTrueNamingTheField() {
        Usage valid = Usage.newBuilder()
                .setModel("gpt-4o")
                .setInputTokens(10)
                .setOutputTokens(5)
                .build();
        List<Map.Entry<String, Usage>> refused = new java.util.ArrayList<>();
        refused.add(
                Map.entry("usage.model", Usage.newBuilder(valid).setModel(" ").build()));
        refused.add(Map.entry(
                "usage.model", Usage.newBuilder(valid).setModel("m".repeat(257)).build()));
        refused.add(Map.entry(
                "usage.provider", Usage.newBuilder(valid).setProvider("a\tb").build()));
        refused.add(Map.entry(
                "usage.inputTokens", Usage.newBuilder(valid).setInputTokens(-1).build()));
        refused.add(Map.entry(
                "usage.outputTokens",
                Usage.newBuilder(valid)
                        .setOutputTokens(EventValidator.MAX_USAGE_TOKENS + 1)
                        .build()));
        refused.add(Map.entry(
                "usage.cachedInputTokens",
                Usage.newBuilder(valid).setCachedInputTokens(11).build()));
        refused.add(Map.entry(
                "usage.reasoningTokens",
                Usage.newBuilder(valid).setReasoningTokens(6).build()));
        refused.add(Map.entry(
                "usage.cost.amount",
                Usage.newBuilder(valid).setCost(new Cost(-0.01, "USD")).build()));
        refused.add(Map.entry(
                "usage.cost.amount",
                Usage.newBuilder(valid).setCost(new Cost(Double.NaN, "USD")).build()));
        refused.add(Map.entry(
                "usage.cost.currency",
                Usage.newBuilder(valid).setCost(new Cost(1d, "usd")).build()));
        refused.forEach(each ->
                assertRefused(() -> validator.validate(started(b -> b.setUsage(each.getValue()))), each.getKey()));
        assertRefused(
                () -> validator.validate(RoomEvent.newBuilder(
                                SampleEvents.roomEvent("room-1", SampleEvents.turnEnded("t1")))
                        .setUsage(Usage.newBuilder(valid).setInputTokens(-5).build())
                        .build()),
                "usage.inputTokens");
    }

    private static RunEvent started(Consumer<RunEvent.Builder> change) {
        RunEvent.Builder builder = RunEvent.newBuilder(
                SampleEvents.runEvent("run-1", SampleEvents.runPayloads().get(1)));
        change.accept(builder);
        return builder.build();
    }

    private static ArtifactEvent artifact(Object payload) {
        return SampleEvents.artifactEvent("artifact-1", payload);
    }

    private static void assertRefused(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String field) {
        assertThatThrownBy(call)
                .isInstanceOfSatisfying(
                        InvalidEvent.class,
                        e -> org.assertj.core.api.Assertions.assertThat(e.field())
                                .isEqualTo(field))
                .hasMessageStartingWith(field + ": ");
    }
}
