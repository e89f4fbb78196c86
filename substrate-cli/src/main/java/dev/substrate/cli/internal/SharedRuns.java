package dev.substrate.cli.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.substrate.SubstrateException;
import dev.substrate.api.EventJson;
import dev.substrate.client.SubstrateClient;
import dev.substrate.config.KafkaSettings;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.events.run.RunEvent;
import dev.substrate.registry.SchemaRegistryFailed;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The substrate as {@code share} and {@code do} reach it: through the HTTP API (a URL and a token) or straight
 * through Kafka (bootstrap servers). Appends keep the events' ids, times and actors.
 */
public interface SharedRuns extends AutoCloseable {

    /** Where the events go, for messages. */
    String target();

    /**
     * Checks the substrate answers, before anything is written.
     *
     * @throws NotShared when it does not
     */
    void check();

    /** Appends {@code events} in order and waits until the substrate acknowledged every one. */
    void append(List<RunEvent> events);

    /**
     * The ids of the run's events the substrate has applied, read once it has decided everything appended here;
     * empty when this way of reaching the substrate cannot tell (Kafka only).
     */
    Optional<Set<String>> appliedEventIds(String runId);

    @Override
    void close();

    /** The substrate could not be reached, or did not take what was sent (such as a token without the right). */
    final class NotShared extends SubstrateException {
        private static final long serialVersionUID = 1L;

        public NotShared(String message, Throwable cause) {
            super(message, cause);
        }

        @Override
        public boolean isRetriable() {
            return !(getCause() instanceof ApiClient.ApiRefused refused) || refused.isRetriable();
        }
    }

    /** Through the HTTP API: one {@code POST /v1/runs/{id}/events} per event. */
    static SharedRuns http(ApiClient api) {
        return new SharedRuns() {
            private String lastPosition;

            @Override
            public String target() {
                return api.baseUrl();
            }

            @Override
            public void check() {
                try {
                    api.get("/ready", java.util.Map.of());
                } catch (ApiClient.ApiUnreachable | ApiClient.ApiRefused e) {
                    throw new NotShared("Substrate at " + api.baseUrl() + " is not ready: " + e.getMessage(), e);
                }
            }

            @Override
            public void append(List<RunEvent> events) {
                for (RunEvent event : events) {
                    try {
                        lastPosition = api.post("/v1/runs/" + event.getRunId() + "/events", EventJson.body(event))
                                .path("position")
                                .asText();
                    } catch (ApiClient.ApiUnreachable | ApiClient.ApiRefused e) {
                        throw new NotShared(e.getMessage(), e);
                    }
                }
            }

            @Override
            public Optional<Set<String>> appliedEventIds(String runId) {
                // Events of one run are decided in order: the history read at the last one's position has them
                // all. It comes a page at a time; the first page waits for the position, the rest are past it.
                Set<String> applied = new HashSet<>();
                long after = 0;
                while (true) {
                    JsonNode page;
                    try {
                        page = api.get(
                                "/v1/runs/" + runId + "/events",
                                java.util.Map.of(
                                        "position", lastPosition, "timeoutMs", 30_000, "after", after, "limit", 1000));
                    } catch (ApiClient.ApiRefused e) {
                        if (e.status() == 404) {
                            return Optional.of(Set.of());
                        }
                        throw e;
                    }
                    page.path("items")
                            .forEach(item -> applied.add(item.path("eventId").asText()));
                    if (!page.hasNonNull("next")) {
                        return Optional.of(applied);
                    }
                    after = page.get("next").asLong();
                }
            }

            @Override
            public void close() {}
        };
    }

    /** Straight to Kafka, with a {@link SubstrateClient}. */
    static SharedRuns kafka(SubstrateConfig config) {
        return new SharedRuns() {
            private SubstrateClient client;

            @Override
            public String target() {
                return "Kafka at " + config.get(KafkaSettings.BOOTSTRAP_SERVERS);
            }

            @Override
            public void check() {
                try {
                    KafkaReachability.clusterId(config, Duration.ofSeconds(15));
                } catch (KafkaReachability.KafkaUnreachable e) {
                    throw new NotShared(e.getMessage(), e);
                }
                try {
                    client = SubstrateClient.create(config);
                } catch (SchemaRegistryFailed e) {
                    throw new NotShared(e.getMessage(), e);
                }
            }

            @Override
            public void append(List<RunEvent> events) {
                List<CompletableFuture<?>> acks = events.stream()
                        .<CompletableFuture<?>>map(client::append)
                        .toList();
                try {
                    CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new))
                            .join();
                } catch (CompletionException e) {
                    throw new NotShared("Kafka did not acknowledge every event: " + e.getCause(), e);
                }
            }

            @Override
            public Optional<Set<String>> appliedEventIds(String runId) {
                return Optional.empty();
            }

            @Override
            public void close() {
                if (client != null) {
                    client.close();
                }
            }
        };
    }
}
