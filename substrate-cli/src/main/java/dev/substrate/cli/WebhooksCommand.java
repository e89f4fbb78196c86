package dev.substrate.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.webhook.WebhookEvents;
import dev.substrate.webhook.WebhookSignature;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code substrate webhooks create|list|show|delete|replay}: the webhook subscriptions, through the API. */
@Command(
        name = "webhooks",
        mixinStandardHelpOptions = true,
        description = {
            "Manages webhook subscriptions (/v1/webhooks): signed pushes, per the Standard Webhooks specification, of"
                    + " runs waiting, interrupts answered, runs finished and rooms closed.",
            "An admin or operator token; a token scoped to projects manages subscriptions of its projects."
        },
        footer = {
            "  substrate webhooks create https://ops.example.com/hooks --event run.waiting --event run.failed",
            "  substrate webhooks list"
        },
        subcommands = {
            WebhooksCommand.Create.class,
            WebhooksCommand.ListWebhooks.class,
            WebhooksCommand.Show.class,
            WebhooksCommand.Delete.class,
            WebhooksCommand.Replay.class,
            WebhooksCommand.Listen.class
        })
final class WebhooksCommand {

    @Command(
            name = "create",
            mixinStandardHelpOptions = true,
            description = {
                "Subscribes URL to the notifications named, and prints the signing secret (whsec_...): the only time"
                        + " it is shown.",
                "Events: run.waiting, run.interrupt.answered, run.succeeded, run.failed, run.cancelled,"
                        + " run.timed_out, room.closed."
            },
            footer = {"  substrate webhooks create https://ops.example.com/hooks -e run.waiting -p 'project:acme/*'"})
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(paramLabel = "URL", description = "Where to deliver: an http or https URL.")
        String url;

        @Option(
                names = {"-e", "--event"},
                required = true,
                paramLabel = "EVENT",
                description = "A notification to deliver. Repeatable.")
        List<String> events;

        @Option(
                names = {"-p", "--project"},
                paramLabel = "PATTERN",
                description = "Only notifications of projects matching PATTERN. Repeatable; none: every project.")
        List<String> projects = new ArrayList<>();

        @Override
        public Integer call() {
            ObjectNode body = JsonNodeFactory.instance.objectNode();
            body.put("url", url);
            ArrayNode eventList = body.putArray("events");
            events.forEach(eventList::add);
            ArrayNode projectList = body.putArray("projects");
            projects.forEach(projectList::add);
            JsonNode created = client.client().post("/v1/webhooks", body);
            client.print(
                    spec.commandLine().getOut(),
                    created,
                    Table.line("webhook " + created.path("webhookId").asText() + " -> " + url + "\nsecret "
                            + created.path("secret").asText() + "   (shown once: verify deliveries with it)"));
            return 0;
        }
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "Lists the webhook subscriptions, with how many messages each was delivered and"
                    + " dead-lettered.",
            footer = {"  substrate webhooks list", "  substrate webhooks list --json"})
    static final class ListWebhooks implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Override
        public Integer call() {
            JsonNode answer = client.client().get("/v1/webhooks", Map.of());
            client.print(
                    spec.commandLine().getOut(),
                    answer,
                    Table.of(
                            answer.path("items"),
                            List.of("WEBHOOK", "URL", "EVENTS", "DELIVERED", "DEAD"),
                            item -> item.path("webhookId").asText(),
                            item -> item.path("url").asText(),
                            item -> String.join(",", strings(item.path("events"))),
                            item -> item.path("delivery").path("delivered").asText(),
                            item -> item.path("delivery").path("deadLettered").asText()));
            return 0;
        }
    }

    @Command(
            name = "show",
            mixinStandardHelpOptions = true,
            description = "Shows one subscription, its delivery status and latest dead letters.",
            footer = {"  substrate webhooks show wh-1a2b --json"})
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(paramLabel = "WEBHOOK_ID", description = "The subscription.")
        String webhookId;

        @Override
        public Integer call() {
            client.show(spec.commandLine().getOut(), "/v1/webhooks/" + webhookId);
            return 0;
        }
    }

    @Command(
            name = "delete",
            mixinStandardHelpOptions = true,
            description = "Deletes a subscription; its messages not yet delivered are dropped.",
            footer = {"  substrate webhooks delete wh-1a2b"})
    static final class Delete implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(paramLabel = "WEBHOOK_ID", description = "The subscription.")
        String webhookId;

        @Override
        public Integer call() {
            client.client().delete("/v1/webhooks/" + webhookId);
            spec.commandLine().getOut().println("deleted webhook " + webhookId);
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    @Command(
            name = "replay",
            mixinStandardHelpOptions = true,
            description = "Sends a subscription again every notification it wants from a time on, each with its"
                    + " webhook-id (a receiver that keeps ids sees repeats).",
            footer = {"  substrate webhooks replay wh-1a2b --from 2026-12-06T10:00:00Z"})
    static final class Replay implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Parameters(paramLabel = "WEBHOOK_ID", description = "The subscription.")
        String webhookId;

        @Option(names = "--from", required = true, paramLabel = "TIME", description = "An ISO-8601 time.")
        String from;

        @Override
        public Integer call() {
            ObjectNode body = JsonNodeFactory.instance.objectNode().put("from", from);
            JsonNode answer = client.client().post("/v1/webhooks/" + webhookId + "/replay", body);
            client.print(
                    spec.commandLine().getOut(),
                    answer,
                    Table.line("replaying to " + webhookId + " from "
                            + answer.path("from").asText() + ": "
                            + answer.path("notifications").asText() + " notifications to read"));
            return 0;
        }
    }

    @Command(
            name = "listen",
            mixinStandardHelpOptions = true,
            description = {
                "Receives webhooks on this machine while it runs: subscribes http://HOST:PORT/ to the events named,"
                        + " checks each delivery's Standard Webhooks signature and prints one line per delivery (the"
                        + " body with --json); deletes the subscription when it ends.",
                "The API must allow private addresses (webhooks.allow.private; substrate dev does)."
            },
            footer = {
                "  substrate webhooks listen -e run.waiting -e run.interrupt.answered",
                "  substrate webhooks listen --port 9999 --count 2 -e run.waiting"
            })
    static final class Listen implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Option(
                names = {"-e", "--event"},
                paramLabel = "EVENT",
                description = "A notification to receive. Repeatable; none: every one.")
        List<String> events = new ArrayList<>();

        @Option(
                names = {"-p", "--project"},
                paramLabel = "PATTERN",
                description = "Only notifications of projects matching PATTERN. Repeatable.")
        List<String> projects = new ArrayList<>();

        @Option(
                names = "--host",
                defaultValue = "localhost",
                paramLabel = "HOST",
                description = "The name the API reaches this machine by (default: ${DEFAULT-VALUE}).")
        String host;

        @Option(
                names = "--port",
                defaultValue = "0",
                paramLabel = "N",
                description = "The port to listen on; 0 picks a free one (default: ${DEFAULT-VALUE}).")
        int port;

        @Option(
                names = "--count",
                paramLabel = "N",
                description = "Stop after N verified deliveries (default: run until stopped).")
        Integer count;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            WebhookListener listener = WebhookListener.start(host, port);
            String url = "http://" + host + ":" + listener.port() + "/";
            ObjectNode body = JsonNodeFactory.instance.objectNode();
            body.put("url", url);
            ArrayNode eventList = body.putArray("events");
            (events.isEmpty() ? WebhookEvents.ALL : events).forEach(eventList::add);
            ArrayNode projectList = body.putArray("projects");
            projects.forEach(projectList::add);
            JsonNode created;
            try {
                created = client.client().post("/v1/webhooks", body);
            } catch (RuntimeException e) {
                listener.close();
                throw e;
            }
            String id = created.path("webhookId").asText();
            Thread cleanup = new Thread(() -> {
                listener.close();
                client.client().delete("/v1/webhooks/" + id);
            });
            Runtime.getRuntime().addShutdownHook(cleanup);
            out.println("listening on " + url + " as webhook " + id + " (Ctrl-C to stop)");
            out.flush();
            int verified = 0;
            while (count == null || verified < count) {
                WebhookListener.Delivery delivery = listener.next(secret(created));
                if (client.json) {
                    out.println(delivery.body());
                } else {
                    out.println(delivery.line());
                }
                out.flush();
                if (delivery.verified()) {
                    verified++;
                }
            }
            Runtime.getRuntime().removeShutdownHook(cleanup);
            cleanup.run();
            return 0;
        }

        private static byte[] secret(JsonNode created) {
            return WebhookSignature.secretBytes(created.path("secret").asText());
        }
    }

    private static List<String> strings(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(value -> values.add(value.asText()));
        return values;
    }
}
