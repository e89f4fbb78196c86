package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.api.auth.Principal;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.config.WebhookSettings;
import dev.substrate.topic.Topics;
import io.javalin.http.Context;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * {@code /v1/webhooks}: subscribe a URL to notifications (201, with its signing secret, shown once), list the
 * subscriptions with their delivery status, delete one, and replay what one was sent from a time. Admins and
 * operators manage them; a token scoped to projects subscribes only to projects it covers, and sees and deletes only
 * such subscriptions (others are 404 to it).
 */
final class WebhookRoutes implements AutoCloseable {

    private final WebhookSubscriptions subscriptions;
    private final WebhookDelivery delivery;
    private final WebhookStatus status;
    private final boolean allowPrivate;

    WebhookRoutes(SubstrateConfig config, Cluster cluster) {
        Topics topics = Topics.from(config);
        this.subscriptions = new WebhookSubscriptions(config, topics, cluster);
        this.status = new WebhookStatus(config, topics);
        this.delivery = new WebhookDelivery(config, topics, subscriptions);
        this.allowPrivate = config.get(WebhookSettings.ALLOW_PRIVATE);
    }

    /** POST /v1/webhooks: {@code {"url", "events": [...], "projects": [...]}}. */
    void create(Context ctx) {
        Principal principal = Requests.principal(ctx);
        ObjectNode body = Requests.body(ctx);
        body.fieldNames().forEachRemaining(field -> {
            if (!Set.of("url", "events", "projects").contains(field)) {
                throw Problem.badRequest(field + " is not a field of a subscription: url, events, projects", field);
            }
        });
        String url = body.path("url").isTextual() ? body.get("url").asText() : null;
        String refusal = WebhookUrls.refusal(url, allowPrivate, true);
        if (refusal != null) {
            throw Problem.badRequest(refusal, "url");
        }
        List<String> events = strings(body, "events");
        if (events.isEmpty() || !WebhookSubscriptions.EVENTS.containsAll(events)) {
            throw Problem.badRequest(
                    "events must name one or more of "
                            + WebhookSubscriptions.EVENTS.stream().sorted().toList(),
                    "events");
        }
        List<String> projects = strings(body, "projects");
        if (projects.size() > Principal.MAX_PROJECTS) {
            throw Problem.badRequest("projects holds at most " + Principal.MAX_PROJECTS + " patterns", "projects");
        }
        try {
            projects.forEach(Principal::requireProjectPattern);
        } catch (IllegalArgumentException e) {
            throw Problem.badRequest(e.getMessage(), "projects");
        }
        if (principal.scoped() && (projects.isEmpty() || !principal.covers(projects))) {
            throw Problem.forbidden(principal.name() + " is limited to the projects " + principal.projects()
                    + "; a subscription of its names projects within them");
        }
        WebhookSubscriptions.Subscription created =
                subscriptions.create(url, events.stream().distinct().toList(), projects, principal.name());
        ObjectNode answer = created.toJson();
        answer.put("secret", created.signingSecret());
        ctx.status(201);
        Requests.json(ctx, answer);
    }

    /** GET /v1/webhooks: the subscriptions the caller may see, oldest first, each with its delivery status. */
    void list(Context ctx) {
        Principal principal = Requests.principal(ctx);
        ObjectNode answer = JsonNodeFactory.instance.objectNode();
        ArrayNode items = answer.putArray("items");
        subscriptions.all().stream()
                .filter(subscription -> visible(principal, subscription))
                .sorted(Comparator.comparing(WebhookSubscriptions.Subscription::createdAt))
                .forEach(subscription -> {
                    ObjectNode item = subscription.toJson();
                    item.set("delivery", status.of(subscription.id(), false));
                    items.add(item);
                });
        Requests.json(ctx, answer);
    }

    /** GET /v1/webhooks/{webhookId}: one subscription, with its status and latest dead letters. */
    void show(Context ctx) {
        WebhookSubscriptions.Subscription subscription = visible(ctx);
        ObjectNode answer = subscription.toJson();
        ObjectNode delivery = status.of(subscription.id(), true);
        delivery.put("inFlightHere", this.delivery.inFlight().getOrDefault(subscription.id(), 0));
        answer.set("delivery", delivery);
        Requests.json(ctx, answer);
    }

    /** DELETE /v1/webhooks/{webhookId}: 204; its messages not yet delivered are dropped. */
    void delete(Context ctx) {
        WebhookSubscriptions.Subscription subscription = visible(ctx);
        subscriptions.delete(subscription.id());
        ctx.status(204);
    }

    /**
     * POST /v1/webhooks/{webhookId}/replay: {@code {"from": ISO-8601 time}}; 202 once the replay has started, with
     * how many notifications it reads (those the subscription wants are sent again, in order, with their own ids).
     */
    void replay(Context ctx) {
        WebhookSubscriptions.Subscription subscription = visible(ctx);
        ObjectNode body = Requests.body(ctx);
        JsonNode from = body.get("from");
        Instant start;
        try {
            start = OffsetDateTime.parse(from == null ? "" : from.asText()).toInstant();
        } catch (DateTimeParseException e) {
            throw Problem.badRequest("from must be an ISO-8601 time such as 2026-12-06T10:00:00Z", "from");
        }
        long read = delivery.replay(subscription.id(), start);
        ObjectNode answer = JsonNodeFactory.instance.objectNode();
        answer.put("webhookId", subscription.id());
        answer.put("from", start.toString());
        answer.put("notifications", read);
        ctx.status(202);
        Requests.json(ctx, answer);
    }

    private WebhookSubscriptions.Subscription visible(Context ctx) {
        String id = ctx.pathParam("webhookId");
        return subscriptions
                .find(id)
                .filter(subscription -> visible(Requests.principal(ctx), subscription))
                .orElseThrow(() -> Problem.notFound("webhook " + id));
    }

    /** Whether {@code principal} sees {@code subscription}: unscoped, or it covers every project it names. */
    private static boolean visible(Principal principal, WebhookSubscriptions.Subscription subscription) {
        return !principal.scoped() || (!subscription.projects().isEmpty() && principal.covers(subscription.projects()));
    }

    private static List<String> strings(ObjectNode body, String field) {
        JsonNode node = body.get(field);
        List<String> values = new ArrayList<>();
        if (node == null || node.isNull()) {
            return values;
        }
        if (!node.isArray() || node.size() > 64) {
            throw Problem.badRequest(field + " must be an array of at most 64 strings", field);
        }
        for (JsonNode value : node) {
            if (!value.isTextual()) {
                throw Problem.badRequest(field + " must be an array of strings", field);
            }
            values.add(value.asText());
        }
        return values;
    }

    @Override
    public void close() {
        delivery.close();
        status.close();
        subscriptions.close();
    }
}
