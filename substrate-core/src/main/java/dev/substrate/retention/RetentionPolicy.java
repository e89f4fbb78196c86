package dev.substrate.retention;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.entity.ProjectPattern;
import dev.substrate.events.room.RoomKind;
import dev.substrate.fold.RunFold;
import dev.substrate.state.RoomState;
import dev.substrate.state.RunState;
import dev.substrate.state.RunStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One retention policy: which finished runs, or which closed rooms of one kind, the fold deletes once they are older
 * than {@link #olderThan}. A run's age counts from its last change (for a finished run, its end, or a later label); a
 * room's from its closing. An entity with a label (a run's) or metadata key (a room's) that a {@link #keep} rule names
 * is kept, as is anything outside the policy's {@link #projects}.
 *
 * @param id names the policy (1-64 of {@code a-z 0-9 . _ -}, starting with a letter or digit)
 * @param applies what it deletes
 * @param projects the project patterns it applies to ({@code *} matches any run of characters)
 * @param olderThan how long after its last change a finished run, or after its closing a closed room, is deleted
 * @param statuses for runs, the finished statuses it deletes (every one when the policy says none)
 * @param keep rules that keep an entity: {@code key} (the label or metadata key is set) or {@code key=value}
 * @param enabled whether the fold applies it; a disabled policy is only planned ({@code substrate retention plan})
 * @param setBy who set it
 * @param setAt when
 */
public record RetentionPolicy(
        String id,
        Applies applies,
        List<String> projects,
        Duration olderThan,
        Set<RunStatus> statuses,
        List<String> keep,
        boolean enabled,
        String setBy,
        Instant setAt) {

    /** What a policy deletes. */
    public enum Applies {
        /** Finished runs (succeeded, failed, cancelled, timed out). */
        runs,
        /** Closed session rooms. */
        sessions,
        /** Closed conversation rooms. */
        conversations
    }

    /** The most project patterns, keep rules or statuses one policy names. */
    public static final int MAX_RULES = 32;

    /** The shortest age a policy deletes at: one second (tests); a real policy says days. */
    public static final Duration MIN_AGE = Duration.ofSeconds(1);

    private static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    private static final Pattern AGE = Pattern.compile("([0-9]{1,9})(d|h|m|s)");
    private static final Set<RunStatus> FINISHED =
            EnumSet.of(RunStatus.succeeded, RunStatus.failed, RunStatus.cancelled, RunStatus.timed_out);

    public RetentionPolicy {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(applies, "applies");
        projects = List.copyOf(projects);
        Objects.requireNonNull(olderThan, "olderThan");
        statuses = statuses.isEmpty() ? Set.copyOf(FINISHED) : Set.copyOf(statuses);
        keep = List.copyOf(keep);
        Objects.requireNonNull(setBy, "setBy");
        Objects.requireNonNull(setAt, "setAt");
    }

    /** Whether this policy deletes {@code run} at {@code now}. */
    public boolean deletes(RunState run, Instant now) {
        return enabled && appliesTo(run, now);
    }

    /** Whether this policy, enabled or not, would delete {@code run} at {@code now}: what a plan shows. */
    public boolean appliesTo(RunState run, Instant now) {
        return applies == Applies.runs
                && RunFold.isTerminal(run.getStatus())
                && statuses.contains(run.getStatus())
                && !run.getTimestamps().getUpdatedAt().isAfter(now.minus(olderThan))
                && inProjects(run.getProject())
                && !kept(run.getLabels());
    }

    /** Whether this policy deletes {@code room} at {@code now}. */
    public boolean deletes(RoomState room, Instant now) {
        return enabled && appliesTo(room, now);
    }

    /** Whether this policy, enabled or not, would delete {@code room} at {@code now}. */
    public boolean appliesTo(RoomState room, Instant now) {
        Applies kind = room.getKind() == RoomKind.session ? Applies.sessions : Applies.conversations;
        return applies == kind
                && room.getClosed()
                && room.getClosedAt() != null
                && !room.getClosedAt().isAfter(now.minus(olderThan))
                && inProjects(room.getProject())
                && !kept(room.getMetadata());
    }

    private boolean inProjects(String project) {
        return projects.stream().anyMatch(pattern -> ProjectPattern.matches(pattern, project));
    }

    private boolean kept(Map<String, String> attributes) {
        for (String rule : keep) {
            int equals = rule.indexOf('=');
            if (equals < 0
                    ? attributes.containsKey(rule)
                    : rule.substring(equals + 1).equals(attributes.get(rule.substring(0, equals)))) {
                return true;
            }
        }
        return false;
    }

    /** The policy as JSON, as {@code GET /v1/retention/policies} shows it and its topic keeps it. */
    public ObjectNode toJson() {
        ObjectNode node = JsonNodeFactory.instance.objectNode();
        node.put("id", id);
        node.put("applies", applies.name());
        ArrayNode patterns = node.putArray("projects");
        projects.forEach(patterns::add);
        node.put("olderThan", age(olderThan));
        if (applies == Applies.runs) {
            ArrayNode finished = node.putArray("statuses");
            statuses.stream().map(RunStatus::name).sorted().forEach(finished::add);
        }
        ArrayNode rules = node.putArray("keep");
        keep.forEach(rules::add);
        node.put("enabled", enabled);
        node.put("setBy", setBy);
        node.put("setAt", setAt.toString());
        return node;
    }

    /**
     * The policy {@code node} describes ({@code {"applies": "runs", "projects": ["project:acme/*"], "olderThan":
     * "30d", "keep": ["pinned"]}}), named {@code id}, set by {@code setBy} at {@code setAt}; a clear {@link
     * InvalidPolicy} naming the field at fault.
     */
    public static RetentionPolicy fromJson(String id, JsonNode node, String setBy, Instant setAt) {
        if (id == null || !ID.matcher(id).matches()) {
            throw new InvalidPolicy("id", "must be 1-64 of a-z 0-9 . _ -, starting with a letter or digit");
        }
        if (node == null || !node.isObject()) {
            throw new InvalidPolicy("", "must be a JSON object");
        }
        Applies applies;
        try {
            applies = Applies.valueOf(node.path("applies").asText());
        } catch (IllegalArgumentException e) {
            throw new InvalidPolicy("applies", "must be runs, sessions or conversations");
        }
        List<String> projects = strings(node, "projects", List.of("*"));
        for (String pattern : projects) {
            if (pattern.isEmpty() || pattern.length() > 256 || pattern.chars().anyMatch(Character::isISOControl)) {
                throw new InvalidPolicy("projects", "each is a project pattern of 1-256 characters");
            }
        }
        Duration olderThan = parseAge(node.path("olderThan").asText(""));
        Set<RunStatus> statuses = EnumSet.noneOf(RunStatus.class);
        for (String status : strings(node, "statuses", List.of())) {
            try {
                statuses.add(RunStatus.valueOf(status));
            } catch (IllegalArgumentException e) {
                throw new InvalidPolicy("statuses", "each is succeeded, failed, cancelled or timed_out");
            }
        }
        if (applies != Applies.runs && !statuses.isEmpty()) {
            throw new InvalidPolicy("statuses", "applies to runs alone");
        }
        if (!FINISHED.containsAll(statuses)) {
            throw new InvalidPolicy("statuses", "each is succeeded, failed, cancelled or timed_out (finished runs)");
        }
        List<String> keep = strings(node, "keep", List.of());
        for (String rule : keep) {
            if (rule.isEmpty() || rule.startsWith("=") || rule.length() > 512) {
                throw new InvalidPolicy("keep", "each is key or key=value, 1-512 characters");
            }
        }
        JsonNode enabled = node.path("enabled");
        if (!enabled.isMissingNode() && !enabled.isBoolean()) {
            throw new InvalidPolicy("enabled", "must be true or false");
        }
        return new RetentionPolicy(
                id, applies, projects, olderThan, statuses, keep, enabled.asBoolean(true), setBy, setAt);
    }

    /** A policy as its topic keeps it (what {@link #toJson} wrote). */
    public static RetentionPolicy read(JsonNode node) {
        return fromJson(
                node.path("id").asText(),
                node,
                node.path("setBy").asText(),
                Instant.parse(node.path("setAt").asText()));
    }

    private static List<String> strings(JsonNode node, String field, List<String> absent) {
        JsonNode array = node.get(field);
        if (array == null || array.isNull()) {
            return absent;
        }
        if (!array.isArray() || array.size() > MAX_RULES || (array.isEmpty() && !absent.isEmpty())) {
            throw new InvalidPolicy(
                    field, "must be an array of " + (absent.isEmpty() ? 0 : 1) + " to " + MAX_RULES + " strings");
        }
        List<String> values = new ArrayList<>();
        for (JsonNode value : array) {
            if (!value.isTextual()) {
                throw new InvalidPolicy(field, "must be an array of strings");
            }
            values.add(value.asText());
        }
        return values;
    }

    /** An age as a policy writes it: {@code 30d}, {@code 12h}, {@code 15m} or {@code 10s}. */
    public static Duration parseAge(String text) {
        Matcher matcher = AGE.matcher(text.strip().toLowerCase(Locale.ROOT));
        if (!matcher.matches()) {
            throw new InvalidPolicy("olderThan", "must be an age such as 30d, 12h, 15m or 10s");
        }
        long amount = Long.parseLong(matcher.group(1));
        Duration age = switch (matcher.group(2)) {
            case "d" -> Duration.ofDays(amount);
            case "h" -> Duration.ofHours(amount);
            case "m" -> Duration.ofMinutes(amount);
            default -> Duration.ofSeconds(amount);
        };
        if (age.compareTo(MIN_AGE) < 0) {
            throw new InvalidPolicy("olderThan", "must be at least 1s");
        }
        return age;
    }

    private static String age(Duration age) {
        long seconds = age.toSeconds();
        if (seconds % 86_400 == 0) {
            return seconds / 86_400 + "d";
        }
        if (seconds % 3_600 == 0) {
            return seconds / 3_600 + "h";
        }
        return seconds % 60 == 0 ? seconds / 60 + "m" : seconds + "s";
    }
}
