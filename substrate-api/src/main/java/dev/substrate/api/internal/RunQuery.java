package dev.substrate.api.internal;

import dev.substrate.api.auth.Principal;
import dev.substrate.events.run.ActivationSurface;
import dev.substrate.events.run.WaitingKind;
import dev.substrate.state.InterruptStatus;
import dev.substrate.state.RunState;
import dev.substrate.state.RunStatus;
import dev.substrate.streams.RunIndex;
import io.javalin.http.Context;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The filters of {@code GET /v1/runs} and {@code GET /v1/runs/counts}, read from the query and checked: every one
 * given must hold. The query reads the most selective index it has ({@link #index()}) and applies the rest to the
 * runs that index yields ({@link #matches}).
 */
final class RunQuery {

    /** Filters taken once. */
    static final Set<String> FILTERS = Set.of(
            "status",
            "project",
            "taskId",
            "parentRunId",
            "correlationId",
            "actor",
            "surface",
            "failureCode",
            "retryable",
            "waitingOn",
            "interrupt",
            "createdAfter",
            "createdBefore",
            "updatedAfter",
            "updatedBefore",
            "finishedAfter",
            "finishedBefore");

    /** Filters that may repeat (each must hold). */
    static final String LABEL = "label";

    /** What {@code GET /v1/runs} takes. */
    static final Params LIST =
            Params.read("order", "cursor", "limit").and(FILTERS).repeatable(LABEL);

    /** What {@code GET /v1/runs/counts} takes. */
    static final Params COUNT = Params.read("groupBy").and(FILTERS).repeatable(LABEL);

    /** What a count may be grouped by, and how each run's group is found. */
    static final Map<String, Function<RunState, String>> GROUPS = groups();

    private final Set<RunStatus> statuses;
    private final String project;
    private final Map<String, String> labels = new LinkedHashMap<>();
    private final String taskId;
    private final String parentRunId;
    private final String correlationId;
    private final String actor;
    private final ActivationSurface surface;
    private final String failureCode;
    private final Boolean retryable;
    private final WaitingKind waitingOn;
    private final boolean openInterrupt;
    private final Instant createdAfter;
    private final Instant createdBefore;
    private final Instant updatedAfter;
    private final Instant updatedBefore;
    private final Instant finishedAfter;
    private final Instant finishedBefore;
    private final RunIndex.Order order;

    private RunQuery(Context ctx) {
        statuses = statuses(ctx.queryParam("status"));
        project = text(ctx, "project");
        for (String label : ctx.queryParams(LABEL)) {
            int colon = label.indexOf(':');
            if (colon < 1) {
                throw Problem.badRequest("label must be key:value, was '" + cut(label) + "'", LABEL);
            }
            String key = label.substring(0, colon);
            String value = label.substring(colon + 1);
            String earlier = labels.put(key, value);
            if (earlier != null && !earlier.equals(value)) {
                throw Problem.badRequest("label " + key + " is asked for with two values; no run has both", LABEL);
            }
        }
        taskId = text(ctx, "taskId");
        parentRunId = text(ctx, "parentRunId");
        correlationId = text(ctx, "correlationId");
        actor = text(ctx, "actor");
        surface = choice(ctx, "surface", ActivationSurface.class);
        failureCode = text(ctx, "failureCode");
        retryable = bool(ctx, "retryable");
        waitingOn = choice(ctx, "waitingOn", WaitingKind.class);
        String interrupt = ctx.queryParam("interrupt");
        if (interrupt != null && !interrupt.equals("open")) {
            throw Problem.badRequest("interrupt must be open (runs with an interrupt to answer)", "interrupt");
        }
        openInterrupt = interrupt != null;
        createdAfter = time(ctx, "createdAfter");
        createdBefore = time(ctx, "createdBefore");
        updatedAfter = time(ctx, "updatedAfter");
        updatedBefore = time(ctx, "updatedBefore");
        finishedAfter = time(ctx, "finishedAfter");
        finishedBefore = time(ctx, "finishedBefore");
        String asked = ctx.queryParam("order");
        if (asked == null || asked.equals("updated")) {
            order = RunIndex.Order.UPDATED;
        } else if (asked.equals("created")) {
            order = RunIndex.Order.CREATED;
        } else {
            throw Problem.badRequest("order must be updated or created (newest first)", "order");
        }
    }

    /** The filters {@code ctx} asks for; 400 naming the first one that is not valid. */
    static RunQuery from(Context ctx) {
        return new RunQuery(ctx);
    }

    /** The group function {@code groupBy} names; 400 when none. */
    static Function<RunState, String> groupBy(Context ctx) {
        String groupBy = ctx.queryParam("groupBy");
        if (groupBy == null || !GROUPS.containsKey(groupBy)) {
            throw Problem.badRequest("groupBy must be one of " + GROUPS.keySet(), "groupBy");
        }
        return GROUPS.get(groupBy);
    }

    /**
     * The index the query reads: by creation for {@code order=created}; otherwise a label's, the project's, the
     * statuses' or (with none of those) every status's, newest update first. A time range on the order's own field
     * bounds the index scan itself.
     */
    RunIndex index() {
        if (order == RunIndex.Order.CREATED) {
            return RunIndex.byCreation().within(createdAfter, createdBefore);
        }
        RunIndex index;
        if (!labels.isEmpty()) {
            Map.Entry<String, String> first = labels.entrySet().iterator().next();
            index = RunIndex.byLabel(first.getKey(), first.getValue());
        } else if (project != null) {
            index = RunIndex.byProject(project);
        } else if (statuses != null) {
            index = RunIndex.byStatus(statuses);
        } else if (openInterrupt) {
            // A run has open interrupts only while it waits.
            index = RunIndex.byStatus(EnumSet.of(RunStatus.waiting));
        } else {
            index = RunIndex.byUpdate();
        }
        return index.within(updatedAfter, updatedBefore);
    }

    /** Whether {@code run} passes every filter and is within {@code principal}'s reach. */
    boolean matches(RunState run, Principal principal) {
        return Access.mayRead(principal, run)
                && (statuses == null || statuses.contains(run.getStatus()))
                && (project == null || project.equals(run.getProject()))
                && labels.entrySet().stream()
                        .allMatch(
                                label -> label.getValue().equals(run.getLabels().get(label.getKey())))
                && (taskId == null || taskId.equals(run.getTaskId()))
                && (parentRunId == null || parentRunId.equals(run.getParentRunId()))
                && (correlationId == null || correlationId.equals(run.getCorrelationId()))
                && (actor == null || actor.equals(run.getActivation().getActor()))
                && (surface == null || surface == run.getActivation().getSurface())
                && (failureCode == null
                        || (run.getFailure() != null
                                && failureCode.equals(run.getFailure().getCode())))
                && (retryable == null
                        || (run.getFailure() != null
                                && retryable == run.getFailure().getRetryable()))
                && (waitingOn == null
                        || (run.getWaitingOn() != null
                                && waitingOn == run.getWaitingOn().getKind()))
                && (!openInterrupt
                        || run.getInterrupts().stream()
                                .anyMatch(interrupt -> interrupt.getStatus() == InterruptStatus.open))
                && within(run.getTimestamps().getCreatedAt(), createdAfter, createdBefore)
                && within(run.getTimestamps().getUpdatedAt(), updatedAfter, updatedBefore)
                && within(run.getTimestamps().getFinishedAt(), finishedAfter, finishedBefore);
    }

    /** {@code [after, before)}: a missing bound holds for anything; a bound holds for no missing time. */
    private static boolean within(Instant time, Instant after, Instant before) {
        if (after == null && before == null) {
            return true;
        }
        return time != null && (after == null || !time.isBefore(after)) && (before == null || time.isBefore(before));
    }

    private static Set<RunStatus> statuses(String param) {
        if (param == null) {
            return null;
        }
        Set<RunStatus> statuses = EnumSet.noneOf(RunStatus.class);
        for (String name : param.split(",", -1)) {
            try {
                statuses.add(RunStatus.valueOf(name.strip()));
            } catch (IllegalArgumentException e) {
                throw Problem.badRequest(
                        "status must be one or more of " + Arrays.toString(RunStatus.values())
                                + ", comma-separated; was '" + cut(name) + "'",
                        "status");
            }
        }
        return statuses;
    }

    private static String text(Context ctx, String name) {
        String value = ctx.queryParam(name);
        if (value != null && value.isEmpty()) {
            throw Problem.badRequest(name + " must not be empty (leave it out to match any)", name);
        }
        return value;
    }

    static <T extends Enum<T>> T choice(Context ctx, String name, Class<T> type) {
        String value = ctx.queryParam(name);
        if (value == null) {
            return null;
        }
        try {
            return Enum.valueOf(type, value);
        } catch (IllegalArgumentException e) {
            List<String> names = new ArrayList<>();
            for (T constant : type.getEnumConstants()) {
                names.add(constant.name());
            }
            throw Problem.badRequest(name + " must be one of " + names + ", was '" + cut(value) + "'", name);
        }
    }

    private static Boolean bool(Context ctx, String name) {
        String value = ctx.queryParam(name);
        if (value == null) {
            return null;
        }
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw Problem.badRequest(name + " must be true or false", name);
        };
    }

    /** An ISO-8601 time with a zone or offset ({@code 2026-12-02T10:00:00Z}); 400 otherwise. */
    private static Instant time(Context ctx, String name) {
        String value = ctx.queryParam(name);
        if (value == null) {
            return null;
        }
        try {
            return OffsetDateTime.parse(value).toInstant();
        } catch (DateTimeParseException e) {
            throw Problem.badRequest(
                    name + " must be an ISO-8601 time with an offset, such as 2026-12-02T10:00:00Z; was '" + cut(value)
                            + "'",
                    name);
        }
    }

    private static String cut(String value) {
        return value.length() > 64 ? value.substring(0, 64) + "..." : value;
    }

    private static Map<String, Function<RunState, String>> groups() {
        Map<String, Function<RunState, String>> groups = new LinkedHashMap<>();
        groups.put("status", run -> run.getStatus().name());
        groups.put("project", RunState::getProject);
        groups.put("surface", run -> run.getActivation().getSurface().name());
        return Collections.unmodifiableMap(groups);
    }

    /** For a predicate of the runs a principal may see that pass the filters. */
    Predicate<RunState> forPrincipal(Principal principal) {
        return run -> matches(run, principal);
    }
}
