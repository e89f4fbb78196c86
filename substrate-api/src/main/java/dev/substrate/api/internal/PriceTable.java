package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.fold.UsageTotals;
import dev.substrate.state.UsageTotal;
import dev.substrate.topic.TopicFollower;
import dev.substrate.topic.TopicWriters;
import dev.substrate.topic.Topics;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The price table: what a model's tokens cost, per million, in one currency; versioned, every version kept on
 * {@code <prefix>prices} (compacted, one key per version) and read by every instance. {@code GET /v1/usage} prices
 * the tokens of events that said no cost with the latest version it has, and says which.
 */
final class PriceTable implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PriceTable.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final BigDecimal MILLION = BigDecimal.valueOf(1_000_000);
    private static final BigDecimal MOST = BigDecimal.valueOf(1_000_000);
    private static final Pattern CURRENCY = Pattern.compile("[A-Z]{3}");

    /** The most models one version prices. */
    static final int MAX_MODELS = 1_000;

    /** What a model's tokens cost, per million, in the version's currency. */
    record Price(BigDecimal input, BigDecimal output, BigDecimal cachedInput) {}

    /** One version of the table. */
    record Version(long version, String currency, Map<String, Price> models, String setBy, Instant setAt) {

        ObjectNode toJson() {
            ObjectNode node = JsonNodeFactory.instance.objectNode();
            node.put("version", version);
            node.put("currency", currency);
            ObjectNode prices = node.putObject("models");
            new TreeMap<>(models)
                    .forEach((model, price) -> prices.putObject(model)
                            .put("inputPerMillion", price.input().toPlainString())
                            .put("outputPerMillion", price.output().toPlainString())
                            .put("cachedInputPerMillion", price.cachedInput().toPlainString()));
            node.put("setBy", setBy);
            node.put("setAt", setAt.toString());
            return node;
        }

        /** {@code total} with the tokens of its events that said no cost priced, when this version prices its model. */
        UsageTotal price(String model, UsageTotal total) {
            Price price = models.get(model);
            if (price == null || total.getUnpricedEvents() == 0) {
                return total;
            }
            BigDecimal cached = BigDecimal.valueOf(total.getUnpricedCachedInputTokens());
            BigDecimal amount = BigDecimal.valueOf(total.getUnpricedInputTokens())
                    .subtract(cached)
                    .multiply(price.input())
                    .add(cached.multiply(price.cachedInput()))
                    .add(BigDecimal.valueOf(total.getUnpricedOutputTokens()).multiply(price.output()))
                    .divide(MILLION, 12, RoundingMode.HALF_EVEN)
                    .stripTrailingZeros();
            Map<String, String> cost = new HashMap<>(total.getCost());
            cost.merge(currency, amount.toPlainString(), UsageTotals::sum);
            return UsageTotal.newBuilder(total)
                    .setCost(cost)
                    .setUnpricedEvents(0)
                    .setUnpricedInputTokens(0)
                    .setUnpricedOutputTokens(0)
                    .setUnpricedCachedInputTokens(0)
                    .build();
        }
    }

    private final String topic;
    private final KafkaProducer<String, byte[]> producer;
    private final TopicFollower follower;
    private final ConcurrentSkipListMap<Long, Version> versions = new ConcurrentSkipListMap<>();

    PriceTable(SubstrateConfig config, Topics topics) {
        this.topic = topics.prices().name();
        this.producer = TopicWriters.idempotent(config, "substrate-prices");
        this.follower = TopicFollower.start(config, topic, "price table", this::apply);
    }

    /** The latest version this instance has read, if any was set. */
    Optional<Version> latest() {
        var last = versions.lastEntry();
        return last == null ? Optional.empty() : Optional.of(last.getValue());
    }

    /** Version {@code version}, if it was set. */
    Optional<Version> version(long version) {
        return Optional.ofNullable(versions.get(version));
    }

    /**
     * Sets a new version from {@code body} ({@code {"currency": "USD", "models": {"gpt-4o": {"inputPerMillion":
     * "2.50", "outputPerMillion": "10", "cachedInputPerMillion": "1.25"}}}}); 400 naming what is wrong.
     */
    Version set(JsonNode body, String setBy) {
        String currency = body.path("currency").asText("USD");
        if (!CURRENCY.matcher(currency).matches()) {
            throw Problem.badRequest("currency must be an ISO 4217 code of 3 capitals, such as USD", "currency");
        }
        JsonNode models = body.path("models");
        if (!models.isObject() || models.isEmpty() || models.size() > MAX_MODELS) {
            throw Problem.badRequest("models must be an object of 1 to " + MAX_MODELS + " models", "models");
        }
        Map<String, Price> prices = new HashMap<>();
        for (var model : models.properties()) {
            String name = model.getKey();
            if (name.isBlank() || name.length() > 256 || name.chars().anyMatch(Character::isISOControl)) {
                throw Problem.badRequest("a model's name is 1-256 characters, no control characters", "models");
            }
            String field = "models." + name;
            BigDecimal input = amount(model.getValue(), "inputPerMillion", field, null);
            BigDecimal output = amount(model.getValue(), "outputPerMillion", field, null);
            prices.put(name, new Price(input, output, amount(model.getValue(), "cachedInputPerMillion", field, input)));
        }
        long next = latest().map(Version::version).orElse(0L) + 1;
        Version version = new Version(next, currency, Map.copyOf(prices), setBy, Instant.now());
        RecordMetadata written = SmallTopicWrites.write(
                producer,
                topic,
                String.format(java.util.Locale.ROOT, "version:%010d", next),
                version.toJson().toString().getBytes(StandardCharsets.UTF_8));
        SmallTopicWrites.awaitApplied(follower, topic, written);
        return versions.getOrDefault(next, version);
    }

    private static BigDecimal amount(JsonNode prices, String name, String field, BigDecimal fallback) {
        JsonNode value = prices.get(name);
        if (value == null && fallback != null) {
            return fallback;
        }
        try {
            BigDecimal amount =
                    value == null || !(value.isNumber() || value.isTextual()) ? null : new BigDecimal(value.asText());
            if (amount == null || amount.signum() < 0 || amount.compareTo(MOST) > 0) {
                throw new NumberFormatException();
            }
            return amount;
        } catch (NumberFormatException e) {
            throw Problem.badRequest(
                    field + "." + name + " must be a price per million tokens from 0 to 1000000", field + "." + name);
        }
    }

    private void apply(ConsumerRecord<byte[], byte[]> record) {
        if (record.value() == null) {
            return;
        }
        try {
            JsonNode node = JSON.readTree(record.value());
            Map<String, Price> models = new HashMap<>();
            node.path("models")
                    .properties()
                    .forEach(model -> models.put(
                            model.getKey(),
                            new Price(
                                    new BigDecimal(model.getValue()
                                            .path("inputPerMillion")
                                            .asText()),
                                    new BigDecimal(model.getValue()
                                            .path("outputPerMillion")
                                            .asText()),
                                    new BigDecimal(model.getValue()
                                            .path("cachedInputPerMillion")
                                            .asText()))));
            Version version = new Version(
                    node.path("version").asLong(),
                    node.path("currency").asText(),
                    Map.copyOf(models),
                    node.path("setBy").asText(),
                    Instant.parse(node.path("setAt").asText()));
            versions.put(version.version(), version);
        } catch (IOException | RuntimeException e) {
            log.warn("Skipped a record of {}: not a price table version ({})", topic, e.toString());
        }
    }

    @Override
    public void close() {
        follower.close();
        producer.close(Duration.ofSeconds(5));
    }
}
