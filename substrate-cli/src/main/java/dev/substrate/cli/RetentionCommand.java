package dev.substrate.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code substrate retention set|list|plan|enable|disable|delete}: the retention policies that delete finished runs
 * and closed rooms once they are old enough ({@code /v1/retention}).
 */
@Command(
        name = "retention",
        mixinStandardHelpOptions = true,
        description = "Sets, lists, plans and removes retention policies: finished runs, or closed session or"
                + " conversation rooms, older than an age, deleted by the fold (state, indexes, history, transcript,"
                + " usage by run; the logs keep the deletion). Plan a policy before you enable it.",
        footer = {
            "  substrate retention set old-runs --applies runs --older-than 30d --project 'project:acme/*' --keep pinned"
                    + " --disabled",
            "  substrate retention plan old-runs",
            "  substrate retention enable old-runs"
        },
        subcommands = {
            RetentionCommand.Set.class,
            RetentionCommand.ListPolicies.class,
            RetentionCommand.Plan.class,
            RetentionCommand.Enable.class,
            RetentionCommand.Disable.class,
            RetentionCommand.Delete.class
        })
final class RetentionCommand {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Command(
            name = "set",
            mixinStandardHelpOptions = true,
            description = "Sets a policy (an admin token), replacing one of the same id. Enabled unless --disabled:"
                    + " the fold applies it at its next check (retention.check.interval.ms).",
            footer = {
                "  substrate retention set old-runs --applies runs --older-than 30d --keep pinned --disabled",
                "  substrate retention set failed-fast --applies runs --status failed --older-than 7d",
                "  substrate retention set old-talks --applies conversations --older-than 90d --keep legal=hold"
            })
    static final class Set implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(index = "0", paramLabel = "ID", description = "The policy's id (a-z 0-9 . _ -).")
        String id;

        @Option(
                names = "--applies",
                required = true,
                paramLabel = "runs|sessions|conversations",
                description = "What it deletes: finished runs, closed session rooms or closed conversation rooms.")
        String applies;

        @Option(
                names = "--older-than",
                required = true,
                paramLabel = "AGE",
                description = "30d, 12h, 15m or 10s: from a run's last change, from a room's closing.")
        String olderThan;

        @Option(
                names = "--project",
                paramLabel = "PATTERN",
                description = "A project pattern it applies to (* matches anything). Repeatable; default: every"
                        + " project.")
        List<String> projects;

        @Option(
                names = "--status",
                paramLabel = "STATUS",
                description = "For runs: a finished status it deletes. Repeatable; default: every finished status.")
        List<String> statuses;

        @Option(
                names = "--keep",
                paramLabel = "KEY[=VALUE]",
                description = "Keeps runs with this label (rooms with this metadata key). Repeatable.")
        List<String> keep;

        @Option(names = "--disabled", description = "Keep it for planning: the fold does not apply it yet.")
        boolean disabled;

        @Override
        public Integer call() {
            ObjectNode body = JSON.createObjectNode();
            body.put("applies", applies);
            body.put("olderThan", olderThan);
            array(body, "projects", projects);
            array(body, "statuses", statuses);
            array(body, "keep", keep);
            body.put("enabled", !disabled);
            JsonNode policy = client.client().put(path(id), body);
            client.print(spec.commandLine().getOut(), policy, table(List.of(policy)));
            return 0;
        }

        private static void array(ObjectNode body, String field, List<String> values) {
            if (values != null) {
                ArrayNode array = body.putArray(field);
                values.forEach(array::add);
            }
        }
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "Lists the policies.",
            footer = {"  substrate retention list", "  substrate retention list --json"})
    static final class ListPolicies implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Override
        public Integer call() {
            JsonNode answer = client.client().get("/v1/retention/policies", Map.of());
            List<JsonNode> policies = new java.util.ArrayList<>();
            answer.path("policies").forEach(policies::add);
            client.print(spec.commandLine().getOut(), answer, table(policies));
            return 0;
        }
    }

    @Command(
            name = "plan",
            mixinStandardHelpOptions = true,
            description = "A dry run (an admin token): what the policy, enabled or not, would delete now, counted over"
                    + " every instance, by project, with the first ids.",
            footer = {"  substrate retention plan old-runs", "  substrate retention plan old-runs --sample 1000 --json"
            })
    static final class Plan implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(index = "0", paramLabel = "ID", description = "The policy.")
        String id;

        @Option(
                names = "--sample",
                defaultValue = "20",
                description = "How many ids to list (default: ${DEFAULT-VALUE}).")
        int sample;

        @Override
        public Integer call() {
            JsonNode plan = client.client().get("/v1/retention/plan", Map.of("policy", id, "sample", sample));
            Table rows = new Table("PROJECT", "WOULD DELETE");
            plan.path("byProject")
                    .properties()
                    .forEach(p -> rows.row(p.getKey(), p.getValue().asText()));
            rows.row("(total)", plan.path("total").asText());
            client.print(spec.commandLine().getOut(), plan, rows);
            if (!client.json) {
                StringBuilder ids = new StringBuilder();
                plan.path("ids")
                        .forEach(one -> ids.append(ids.length() == 0 ? "" : " ").append(one.asText()));
                spec.commandLine()
                        .getOut()
                        .println((plan.path("policy").path("enabled").asBoolean() ? "enabled" : "disabled (a dry run)")
                                + "; first ids: " + (ids.length() == 0 ? "(none)" : ids));
            }
            return 0;
        }
    }

    /** What enabling and disabling share: the policy, read, flipped and set again. */
    abstract static class Toggle implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(index = "0", paramLabel = "ID", description = "The policy.")
        String id;

        abstract boolean enabled();

        @Override
        public Integer call() {
            ObjectNode policy =
                    (ObjectNode) client.client().get(path(id), Map.of()).deepCopy();
            policy.put("enabled", enabled());
            JsonNode set = client.client().put(path(id), policy);
            client.print(spec.commandLine().getOut(), set, table(List.of(set)));
            return 0;
        }
    }

    @Command(
            name = "enable",
            mixinStandardHelpOptions = true,
            description = "Enables a policy (an admin token): the fold applies it at its next check.",
            footer = {"  substrate retention enable old-runs"})
    static final class Enable extends Toggle {
        @Override
        boolean enabled() {
            return true;
        }
    }

    @Command(
            name = "disable",
            mixinStandardHelpOptions = true,
            description = "Disables a policy (an admin token): kept for planning, applied no more.",
            footer = {"  substrate retention disable old-runs"})
    static final class Disable extends Toggle {
        @Override
        boolean enabled() {
            return false;
        }
    }

    @Command(
            name = "delete",
            mixinStandardHelpOptions = true,
            description = "Removes a policy (an admin token); what it deleted stays deleted.",
            footer = {"  substrate retention delete old-runs"})
    static final class Delete implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(index = "0", paramLabel = "ID", description = "The policy.")
        String id;

        @Override
        public Integer call() {
            client.client().delete(path(id));
            spec.commandLine().getOut().println("removed retention policy " + id);
            return 0;
        }
    }

    private static String path(String id) {
        return "/v1/retention/policies/" + URLEncoder.encode(id, StandardCharsets.UTF_8);
    }

    private static Table table(List<JsonNode> policies) {
        Table rows = new Table("ID", "APPLIES", "OLDER THAN", "PROJECTS", "STATUSES", "KEEP", "ENABLED");
        for (JsonNode policy : policies) {
            rows.row(
                    policy.path("id").asText(),
                    policy.path("applies").asText(),
                    policy.path("olderThan").asText(),
                    join(policy.path("projects")),
                    join(policy.path("statuses")),
                    join(policy.path("keep")),
                    policy.path("enabled").asText());
        }
        return rows;
    }

    private static String join(JsonNode array) {
        StringBuilder text = new StringBuilder();
        array.forEach(value -> text.append(text.length() == 0 ? "" : ",").append(value.asText()));
        return text.length() == 0 ? "-" : text.toString();
    }
}
