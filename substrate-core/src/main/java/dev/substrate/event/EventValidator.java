package dev.substrate.event;

import dev.substrate.events.artifact.ArtifactDeleted;
import dev.substrate.events.artifact.ArtifactEvent;
import dev.substrate.events.artifact.ArtifactRegistered;
import dev.substrate.events.artifact.ArtifactRevised;
import dev.substrate.events.artifact.Provenance;
import dev.substrate.events.common.Correlation;
import dev.substrate.events.common.Cost;
import dev.substrate.events.common.Usage;
import dev.substrate.events.room.BlockCompleted;
import dev.substrate.events.room.BlockStarted;
import dev.substrate.events.room.BlockUpdated;
import dev.substrate.events.room.ErrorRaised;
import dev.substrate.events.room.LogEmitted;
import dev.substrate.events.room.Member;
import dev.substrate.events.room.MemberGranted;
import dev.substrate.events.room.MemberRevoked;
import dev.substrate.events.room.MetadataUpdated;
import dev.substrate.events.room.RoomClosed;
import dev.substrate.events.room.RoomCreated;
import dev.substrate.events.room.RoomDeleted;
import dev.substrate.events.room.RoomEvent;
import dev.substrate.events.room.StatusChanged;
import dev.substrate.events.room.TextDelta;
import dev.substrate.events.room.TurnEnded;
import dev.substrate.events.room.TurnStarted;
import dev.substrate.events.run.Activation;
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
import dev.substrate.events.run.RunStarted;
import dev.substrate.events.run.RunSucceeded;
import dev.substrate.events.run.RunTimedOut;
import dev.substrate.events.run.RunWaiting;
import dev.substrate.events.run.WaitingOn;
import dev.substrate.events.run.Where;
import dev.substrate.schemas.TrustedEventClasses;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The rules every event must meet before it is written, applied alike by the Java client, the HTTP API and the
 * fold: ids, required fields, formats, sizes and timestamps. A refused event throws {@link InvalidEvent} naming
 * the field. Thread-safe.
 */
public final class EventValidator {

    static {
        TrustedEventClasses.register();
    }

    /** The default largest encoded event: 1 MiB. */
    public static final int DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;
    /** Ids: 1 to 128 characters from {@code A-Z a-z 0-9 . _ : -}. */
    public static final Pattern ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
    /** The W3C traceparent header. */
    public static final Pattern TRACEPARENT = Pattern.compile("[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}");

    private static final CharClass ID_CHARS = new CharClass("A-Za-z0-9._:-");
    private static final CharClass SCOPE_CHARS = new CharClass("A-Za-z0-9._:/-");
    private static final CharClass KEY_CHARS = new CharClass("A-Za-z0-9._/:-");
    private static final Pattern DIGEST = Pattern.compile("[a-z0-9-]{2,32}:[0-9a-fA-F]{16,128}");
    private static final Pattern MEDIA_TYPE = Pattern.compile("[\\w.+-]+/[\\w.+-]+(\\s*;.*)?");
    private static final Instant EARLIEST = Instant.parse("2000-01-01T00:00:00Z");
    private static final Duration CLOCK_SKEW = Duration.ofMinutes(5);
    private static final int MAX_LABELS = 64;
    private static final int MAX_LABEL_VALUE = 1024;
    private static final int MAX_SHORT_TEXT = 1024;

    private final int maxEventBytes;
    private final Clock clock;

    /** Rules with the default size limit and the system clock. */
    public EventValidator() {
        this(DEFAULT_MAX_EVENT_BYTES, Clock.systemUTC());
    }

    /**
     * @param maxEventBytes the largest encoded event accepted
     * @param clock the clock timestamps are checked against (they may be at most 5 minutes ahead of it)
     */
    public EventValidator(int maxEventBytes, Clock clock) {
        if (maxEventBytes < 1024) {
            throw new IllegalArgumentException("maxEventBytes must be at least 1024, was " + maxEventBytes);
        }
        this.maxEventBytes = maxEventBytes;
        this.clock = clock;
    }

    /** The largest encoded event accepted. */
    public int maxEventBytes() {
        return maxEventBytes;
    }

    /** Refuses an encoded event larger than the limit. */
    public void checkSize(int encodedBytes) {
        if (encodedBytes > maxEventBytes) {
            throw new InvalidEvent(
                    "event", "is " + encodedBytes + " bytes encoded, more than the limit of " + maxEventBytes);
        }
    }

    /** Checks a run event, with timestamps judged against this validator's clock. */
    public void validate(RunEvent event) {
        validate(event, clock.instant());
    }

    /** Checks a run event, with timestamps judged against {@code now} (the fold passes the record's time). */
    public void validate(RunEvent event, Instant now) {
        envelope(event.getEventId(), "runId", event.getRunId(), event.getOccurredAt(), event.getActor(), now);
        correlation(event.getCorrelation());
        usage(event.getUsage());
        expectedVersion(event.getExpectedVersion());
        if (event.getDeletion() != null) {
            optionalText("deletion.reason", event.getDeletion().getReason(), MAX_SHORT_TEXT);
            optionalId("deletion.policy", event.getDeletion().getPolicy());
            if (!(event.getPayload() instanceof RunLabelled)) {
                throw new InvalidEvent("deletion", "is carried by an event whose payload is an empty RunLabelled");
            }
        }
        Object payload = event.getPayload();
        if (payload instanceof RunCreated created) {
            scope("payload.project", created.getProject());
            optionalId("payload.taskId", created.getTaskId());
            optionalId("payload.parentRunId", created.getParentRunId());
            optionalId("payload.sessionRoomId", created.getSessionRoomId());
            activation(created.getActivation());
            labels("payload.labels", created.getLabels());
            where("payload.where", created.getWhere());
        } else if (payload instanceof RunStarted started) {
            where("payload.where", started.getWhere());
        } else if (payload instanceof RunWaiting waiting) {
            waitingOn(waiting.getWaitingOn(), now);
            interrupts(waiting.getInterrupts());
        } else if (payload instanceof RunResumed resumed) {
            optionalText("payload.detail", resumed.getDetail(), MAX_SHORT_TEXT);
            answer(resumed.getAnswer());
        } else if (payload instanceof RunSucceeded succeeded) {
            result(succeeded.getResult());
        } else if (payload instanceof RunFailed failed) {
            failure(failed.getFailure());
        } else if (payload instanceof RunCancelled cancelled) {
            optionalText("payload.reason", cancelled.getReason(), MAX_SHORT_TEXT);
        } else if (payload instanceof RunTimedOut timedOut) {
            optionalText("payload.detail", timedOut.getDetail(), MAX_SHORT_TEXT);
        } else if (payload instanceof RunLabelled labelled) {
            labels("payload.labels", labelled.getLabels());
            keys("payload.removed", labelled.getRemoved());
            boolean empty =
                    labelled.getLabels().isEmpty() && labelled.getRemoved().isEmpty();
            // Empty, it may still report usage (the run event for usage alone) or carry a deletion.
            if (empty && event.getUsage() == null && event.getDeletion() == null) {
                throw new InvalidEvent("payload.labels", "sets and removes nothing (and reports no usage)");
            }
            if (!empty && event.getDeletion() != null) {
                throw new InvalidEvent("payload.labels", "must be empty on an event that deletes its run");
            }

        } else {
            throw unknownPayload(payload);
        }
    }

    /** Checks a room event, with timestamps judged against this validator's clock. */
    public void validate(RoomEvent event) {
        validate(event, clock.instant());
    }

    /** Checks a room event, with timestamps judged against {@code now} (the fold passes the record's time). */
    public void validate(RoomEvent event, Instant now) {
        envelope(event.getEventId(), "roomId", event.getRoomId(), event.getOccurredAt(), event.getActor(), now);
        correlation(event.getCorrelation());
        usage(event.getUsage());
        expectedVersion(event.getExpectedVersion());
        Object payload = event.getPayload();
        if (payload instanceof RoomCreated created) {
            scope("payload.project", created.getProject());
            optionalId("payload.parentRoomId", created.getParentRoomId());
            optionalId("payload.runId", created.getRunId());
            optionalText("payload.title", created.getTitle(), MAX_SHORT_TEXT);
            members(created.getMembers());
        } else if (payload instanceof MemberGranted granted) {
            principal("payload.member.principal", granted.getMember().getPrincipal());
        } else if (payload instanceof MemberRevoked revoked) {
            principal("payload.principal", revoked.getPrincipal());
        } else if (payload instanceof RoomClosed closed) {
            optionalText("payload.reason", closed.getReason(), MAX_SHORT_TEXT);
        } else if (payload instanceof RoomDeleted deleted) {
            optionalText("payload.reason", deleted.getReason(), MAX_SHORT_TEXT);
            optionalId("payload.policy", deleted.getPolicy());
        } else if (payload instanceof TurnStarted turn) {
            id("payload.turnId", turn.getTurnId());
            optionalText("payload.participant", turn.getParticipant(), MAX_SHORT_TEXT);
        } else if (payload instanceof TurnEnded turn) {
            id("payload.turnId", turn.getTurnId());
            optionalText("payload.reason", turn.getReason(), MAX_SHORT_TEXT);
        } else if (payload instanceof BlockStarted block) {
            id("payload.blockId", block.getBlockId());
            optionalId("payload.turnId", block.getTurnId());
            id("payload.kind", block.getKind());
            optionalText("payload.role", block.getRole(), 128);
            metadata("payload.metadata", block.getMetadata());
        } else if (payload instanceof TextDelta delta) {
            id("payload.blockId", delta.getBlockId());
            wholeCharacters("payload.text", delta.getText());
        } else if (payload instanceof BlockUpdated block) {
            id("payload.blockId", block.getBlockId());
            metadata("payload.metadata", block.getMetadata());
        } else if (payload instanceof BlockCompleted block) {
            id("payload.blockId", block.getBlockId());
        } else if (payload instanceof MetadataUpdated updated) {
            metadata("payload.metadata", updated.getMetadata());
        } else if (payload instanceof StatusChanged status) {
            optionalText("payload.message", status.getMessage(), MAX_SHORT_TEXT * 16);
        } else if (payload instanceof LogEmitted logged) {
            requireText("payload.message", logged.getMessage());
        } else if (payload instanceof ErrorRaised error) {
            id("payload.code", error.getCode());
            requireText("payload.message", error.getMessage());
        } else {
            throw unknownPayload(payload);
        }
    }

    /** Checks an artifact event, with timestamps judged against this validator's clock. */
    public void validate(ArtifactEvent event) {
        validate(event, clock.instant());
    }

    /** Checks an artifact event, with timestamps judged against {@code now} (the fold passes the record's time). */
    public void validate(ArtifactEvent event, Instant now) {
        envelope(event.getEventId(), "artifactId", event.getArtifactId(), event.getOccurredAt(), event.getActor(), now);
        correlation(event.getCorrelation());
        expectedVersion(event.getExpectedVersion());
        Object payload = event.getPayload();
        if (payload instanceof ArtifactRegistered registered) {
            id("payload.kind", registered.getKind());
            requireText("payload.name", registered.getName());
            shortText("payload.name", registered.getName(), MAX_SHORT_TEXT);
            scope("payload.parentId", registered.getParentId());
            locator("payload.locator", registered.getLocator());
            digest("payload.digest", registered.getDigest());
            size("payload.size", registered.getSize());
            mediaType("payload.mediaType", registered.getMediaType());
            optionalText("payload.remoteId", registered.getRemoteId(), MAX_SHORT_TEXT);
            labels("payload.labels", registered.getLabels());
            provenance(registered.getProvenance());
        } else if (payload instanceof ArtifactRevised revised) {
            locator("payload.locator", revised.getLocator());
            digest("payload.digest", revised.getDigest());
            size("payload.size", revised.getSize());
            mediaType("payload.mediaType", revised.getMediaType());
            optionalText("payload.remoteId", revised.getRemoteId(), MAX_SHORT_TEXT);
            labels("payload.labels", revised.getLabels());
            optionalText("payload.note", revised.getNote(), MAX_SHORT_TEXT * 16);
        } else if (payload instanceof ArtifactDeleted deleted) {
            optionalText("payload.reason", deleted.getReason(), MAX_SHORT_TEXT);
        } else {
            throw unknownPayload(payload);
        }
    }

    private static void envelope(
            String eventId, String idField, String entityId, Instant occurredAt, String actor, Instant now) {
        id("eventId", eventId);
        id(idField, entityId);
        timestamp("occurredAt", occurredAt, now);
        if (actor != null) {
            principal("actor", actor);
        }
    }

    private static void correlation(Correlation correlation) {
        if (correlation == null) {
            throw new InvalidEvent("correlation", "is required (its fields may be null)");
        }
        optionalId("correlation.correlationId", correlation.getCorrelationId());
        optionalId("correlation.causationId", correlation.getCausationId());
        String traceparent = correlation.getTraceparent();
        if (traceparent != null && !TRACEPARENT.matcher(traceparent).matches()) {
            throw new InvalidEvent(
                    "correlation.traceparent", "must be a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>)");
        }
    }

    /** The most tokens one event may say a model spent in one field: far past any context window. */
    public static final long MAX_USAGE_TOKENS = 1_000_000_000_000L;

    /** The most one event may say a model call cost, in any currency. */
    public static final double MAX_USAGE_COST = 1_000_000_000d;

    private static final Pattern CURRENCY = Pattern.compile("[A-Z]{3}");

    private static void usage(Usage usage) {
        if (usage == null) {
            return;
        }
        if (usage.getProvider() != null) {
            principal("usage.provider", usage.getProvider());
        }
        principal("usage.model", usage.getModel());
        optionalId("usage.runId", usage.getRunId());
        tokens("usage.inputTokens", usage.getInputTokens());
        tokens("usage.outputTokens", usage.getOutputTokens());
        tokens("usage.cachedInputTokens", usage.getCachedInputTokens());
        tokens("usage.reasoningTokens", usage.getReasoningTokens());
        if (usage.getCachedInputTokens() > usage.getInputTokens()) {
            throw new InvalidEvent("usage.cachedInputTokens", "is more than inputTokens, which count them too");
        }
        if (usage.getReasoningTokens() > usage.getOutputTokens()) {
            throw new InvalidEvent("usage.reasoningTokens", "is more than outputTokens, which count them too");
        }
        Cost cost = usage.getCost();
        if (cost != null) {
            double amount = cost.getAmount();
            if (!Double.isFinite(amount) || amount < 0 || amount > MAX_USAGE_COST) {
                throw new InvalidEvent("usage.cost.amount", "must be a number from 0 to " + (long) MAX_USAGE_COST);
            }
            if (cost.getCurrency() == null
                    || !CURRENCY.matcher(cost.getCurrency()).matches()) {
                throw new InvalidEvent("usage.cost.currency", "must be an ISO 4217 code of 3 capitals, such as USD");
            }
        }
    }

    private static void tokens(String field, long tokens) {
        if (tokens < 0 || tokens > MAX_USAGE_TOKENS) {
            throw new InvalidEvent(field, "must be 0 to " + MAX_USAGE_TOKENS + ", was " + tokens);
        }
    }

    private static void expectedVersion(Long expectedVersion) {
        if (expectedVersion != null && expectedVersion < 0) {
            throw new InvalidEvent("expectedVersion", "must be 0 or more, was " + expectedVersion);
        }
    }

    private static void activation(Activation activation) {
        principal("payload.activation.actor", activation.getActor());
    }

    private static void where(String field, Where where) {
        if (where != null) {
            optionalText(field + ".executor", where.getExecutor(), MAX_SHORT_TEXT);
            optionalText(field + ".host", where.getHost(), MAX_SHORT_TEXT);
            optionalText(field + ".environment", where.getEnvironment(), MAX_SHORT_TEXT);
        }
    }

    private static void waitingOn(WaitingOn waitingOn, Instant now) {
        requireText("payload.waitingOn.detail", waitingOn.getDetail());
        shortText("payload.waitingOn.detail", waitingOn.getDetail(), MAX_SHORT_TEXT * 4);
        timestamp("payload.waitingOn.since", waitingOn.getSince(), now);
    }

    /** The most interrupts one event raises, and the most a run has open at once. */
    public static final int MAX_OPEN_INTERRUPTS = 32;

    private static void interrupts(List<Interrupt> interrupts) {
        if (interrupts.size() > MAX_OPEN_INTERRUPTS) {
            throw new InvalidEvent(
                    "payload.interrupts",
                    "has " + interrupts.size() + " interrupts; a run has at most " + MAX_OPEN_INTERRUPTS + " open");
        }
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < interrupts.size(); i++) {
            Interrupt interrupt = interrupts.get(i);
            String field = "payload.interrupts[" + i + "]";
            id(field + ".interruptId", interrupt.getInterruptId());
            if (!ids.add(interrupt.getInterruptId())) {
                throw new InvalidEvent(
                        field + ".interruptId", "'" + interrupt.getInterruptId() + "' is raised twice in one event");
            }
            requireText(field + ".reason", interrupt.getReason());
            shortText(field + ".reason", interrupt.getReason(), 128);
            optionalText(field + ".message", interrupt.getMessage(), MAX_SHORT_TEXT * 4);
            optionalText(field + ".toolCallId", interrupt.getToolCallId(), 256);
            if (interrupt.getExpiresAt() != null) {
                try {
                    Instant.parse(interrupt.getExpiresAt());
                } catch (DateTimeParseException e) {
                    throw new InvalidEvent(
                            field + ".expiresAt", "must be an ISO-8601 instant such as 2026-11-21T10:15:30Z");
                }
            }
            if (interrupt.getResponseSchema() != null) {
                ResponseSchemas.check(field + ".responseSchema", interrupt.getResponseSchema());
            }
        }
    }

    private static void answer(InterruptAnswer answer) {
        if (answer == null) {
            return;
        }
        id("payload.answer.interruptId", answer.getInterruptId());
        if (answer.getPayload() != null) {
            ResponseSchemas.parse("payload.answer.payload", answer.getPayload());
        }
        optionalText("payload.answer.answeredBy", answer.getAnsweredBy(), 256);
    }

    private static void result(Result result) {
        requireText("payload.result.summary", result.getSummary());
        List<String> artifactIds = result.getArtifactIds();
        for (int i = 0; i < artifactIds.size(); i++) {
            id("payload.result.artifactIds[" + i + "]", artifactIds.get(i));
        }
    }

    private static void failure(Failure failure) {
        id("payload.failure.code", failure.getCode());
        requireText("payload.failure.message", failure.getMessage());
    }

    private static void members(List<Member> members) {
        Set<String> principals = new HashSet<>();
        for (int i = 0; i < members.size(); i++) {
            String principal = members.get(i).getPrincipal();
            principal("payload.members[" + i + "].principal", principal);
            if (!principals.add(principal)) {
                throw new InvalidEvent("payload.members[" + i + "].principal", "'" + principal + "' is listed twice");
            }
        }
    }

    private static void provenance(Provenance provenance) {
        optionalId("payload.provenance.runId", provenance.getRunId());
        optionalId("payload.provenance.roomId", provenance.getRoomId());
        optionalText("payload.provenance.resource", provenance.getResource(), MAX_SHORT_TEXT);
    }

    private static void locator(String field, String locator) {
        if (locator == null) {
            return;
        }
        try {
            URI uri = new URI(locator);
            if (uri.getScheme() == null) {
                throw new InvalidEvent(field, "must be an absolute URI with a scheme (git, https, blob, ...)");
            }
        } catch (URISyntaxException e) {
            throw new InvalidEvent(field, "is not a URI: " + e.getReason());
        }
        shortText(field, locator, 4096);
    }

    private static void digest(String field, String digest) {
        if (digest != null && !DIGEST.matcher(digest).matches()) {
            throw new InvalidEvent(field, "must be <algorithm>:<hex>, such as sha256:9f86d0...");
        }
    }

    private static void size(String field, Long size) {
        if (size != null && size < 0) {
            throw new InvalidEvent(field, "must be 0 or more, was " + size);
        }
    }

    private static void mediaType(String field, String mediaType) {
        if (mediaType != null && !MEDIA_TYPE.matcher(mediaType).matches()) {
            throw new InvalidEvent(field, "must be a media type such as text/markdown");
        }
    }

    private static void labels(String field, Map<String, String> labels) {
        if (labels.size() > MAX_LABELS) {
            throw new InvalidEvent(field, "has " + labels.size() + " entries, more than " + MAX_LABELS);
        }
        labels.forEach((key, value) -> {
            key(field, key);
            shortText(field + "." + key, value, MAX_LABEL_VALUE);
            if (hasControlCharacter(value)) {
                throw new InvalidEvent(field + "." + key, "must not contain control characters");
            }
        });
    }

    private static void metadata(String field, Map<String, String> metadata) {
        metadata.keySet().forEach(key -> key(field, key));
    }

    private static void keys(String field, List<String> keys) {
        keys.forEach(key -> key(field, key));
    }

    private static void key(String field, String key) {
        if (!KEY_CHARS.matches(key, 128)) {
            throw new InvalidEvent(field, "key '" + printable(key) + "' must be 1-128 of A-Z a-z 0-9 . _ / : -");
        }
    }

    private static void timestamp(String field, Instant timestamp, Instant now) {
        if (timestamp == null) {
            throw new InvalidEvent(field, "is required");
        }
        if (timestamp.isBefore(EARLIEST)) {
            throw new InvalidEvent(field, timestamp + " is before " + EARLIEST);
        }
        Instant latest = now.plus(CLOCK_SKEW);
        if (timestamp.isAfter(latest)) {
            throw new InvalidEvent(field, timestamp + " is in the future (more than 5 minutes after " + now + ")");
        }
    }

    /** Refuses a value that is not an {@link #ID}. */
    public static void id(String field, String value) {
        if (value == null) {
            throw new InvalidEvent(field, "is required");
        }
        if (!ID_CHARS.matches(value, 128)) {
            throw new InvalidEvent(field, "'" + printable(value) + "' must be 1-128 of A-Z a-z 0-9 . _ : -");
        }
    }

    private static void optionalId(String field, String value) {
        if (value != null) {
            id(field, value);
        }
    }

    private static void scope(String field, String value) {
        if (value == null || !SCOPE_CHARS.matches(value, 256)) {
            throw new InvalidEvent(
                    field, "'" + printable(value) + "' must be a scope such as house:acme or project:acme/web");
        }
    }

    /** Refuses a principal name that is empty, longer than 256 characters or holds control characters. */
    public static void principal(String field, String value) {
        requireText(field, value);
        shortText(field, value, 256);
        if (hasControlCharacter(value)) {
            throw new InvalidEvent(field, "must not contain control characters");
        }
    }

    /**
     * Refuses text holding half of a surrogate pair: UTF-8 cannot carry it, so it would be stored as {@code ?}. A
     * character split across two deltas (a model's tokens cut through an emoji) must be sent whole, in either.
     */
    static void wholeCharacters(String field, CharSequence value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isHighSurrogate(c)
                    && i + 1 < value.length()
                    && Character.isLowSurrogate(value.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new InvalidEvent(
                        field,
                        "holds half of a surrogate pair at index " + i + " (UTF-8 cannot carry it): send a character"
                                + " split across two deltas whole, in one of them");
            }
        }
    }

    /** Whether {@code value} holds a control character (a loop: this runs for every label of every event). */
    private static boolean hasControlCharacter(String value) {
        for (int i = 0; i < value.length(); i++) {
            if (Character.isISOControl(value.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    private static void requireText(String field, String value) {
        if (value == null || value.isBlank()) {
            throw new InvalidEvent(field, "is required and must not be blank");
        }
    }

    private static void optionalText(String field, String value, int maxLength) {
        if (value != null) {
            shortText(field, value, maxLength);
        }
    }

    private static void shortText(String field, String value, int maxLength) {
        if (value.length() > maxLength) {
            throw new InvalidEvent(field, "is " + value.length() + " characters, more than " + maxLength);
        }
    }

    private static InvalidEvent unknownPayload(Object payload) {
        return new InvalidEvent(
                "payload", payload == null ? "is required" : "has an unknown type " + payload.getClass());
    }

    private static String printable(String value) {
        if (value == null) {
            return "null";
        }
        String shown = value.length() > 40 ? value.substring(0, 40) + "..." : value;
        StringBuilder out = new StringBuilder();
        shown.codePoints().forEach(c -> {
            if (Character.isISOControl(c)) {
                out.append(String.format("\\u%04x", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.toString();
    }

    /**
     * A set of ASCII characters, matched by table lookup: ids are checked on every event at every boundary, and a
     * loop over a table is several times faster than the equivalent regular expression.
     */
    private static final class CharClass {
        private final boolean[] allowed = new boolean[128];

        /** {@code spec} lists characters and ranges, e.g. {@code A-Za-z0-9._-} (a trailing - is literal). */
        CharClass(String spec) {
            for (int i = 0; i < spec.length(); i++) {
                char c = spec.charAt(i);
                if (i + 2 < spec.length() && spec.charAt(i + 1) == '-') {
                    for (char r = c; r <= spec.charAt(i + 2); r++) {
                        allowed[r] = true;
                    }
                    i += 2;
                } else {
                    allowed[c] = true;
                }
            }
        }

        /** Whether {@code value} is 1 to {@code maxLength} characters, all in this class. */
        boolean matches(String value, int maxLength) {
            int length = value.length();
            if (length == 0 || length > maxLength) {
                return false;
            }
            for (int i = 0; i < length; i++) {
                char c = value.charAt(i);
                if (c >= 128 || !allowed[c]) {
                    return false;
                }
            }
            return true;
        }
    }
}
