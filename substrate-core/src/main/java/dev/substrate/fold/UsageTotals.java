package dev.substrate.fold;

import dev.substrate.events.common.Cost;
import dev.substrate.events.common.Usage;
import dev.substrate.state.UsageTotal;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Sums of the usage events carry: tokens added exactly, costs as exact decimals per currency. The fold keeps an
 * entity's totals by model; the usage store keeps them by project, day, model and run; queries add those up.
 */
public final class UsageTotals {

    /** How many models an entity's totals keep apart; the rest sum under {@value #OTHER}. */
    public static final int MAX_MODELS = 64;

    /** The model the usage of models past {@link #MAX_MODELS} sums under. */
    public static final String OTHER = "(other)";

    private UsageTotals() {}

    /** {@code totals} with {@code usage} added to its model's entry (a new entry when the model is new). */
    public static List<UsageTotal> add(List<UsageTotal> totals, Usage usage) {
        if (usage == null) {
            return totals;
        }
        List<UsageTotal> next = new ArrayList<>(totals);
        for (int i = 0; i < next.size(); i++) {
            if (next.get(i).getModel().equals(usage.getModel())) {
                next.set(i, plus(next.get(i), of(usage)));
                return next;
            }
        }
        if (next.size() < MAX_MODELS) {
            next.add(of(usage));
            return next;
        }
        UsageTotal other = asOther(of(usage));
        for (int i = 0; i < next.size(); i++) {
            if (next.get(i).getModel().equals(OTHER)) {
                next.set(i, plus(next.get(i), other));
                return next;
            }
        }
        // Full and no (other) yet: the last model kept apart gives its place to (other).
        next.add(plus(asOther(next.remove(next.size() - 1)), other));
        return next;
    }

    private static UsageTotal asOther(UsageTotal total) {
        return UsageTotal.newBuilder(total).setModel(OTHER).setProvider(null).build();
    }

    /** One event's usage as a total of one event. */
    public static UsageTotal of(Usage usage) {
        Map<String, String> cost = new HashMap<>();
        Cost paid = usage.getCost();
        if (paid != null) {
            cost.put(paid.getCurrency(), BigDecimal.valueOf(paid.getAmount()).toPlainString());
        }
        boolean unpriced = paid == null;
        return new UsageTotal(
                usage.getProvider(),
                usage.getModel(),
                1L,
                usage.getInputTokens(),
                usage.getOutputTokens(),
                usage.getCachedInputTokens(),
                usage.getReasoningTokens(),
                cost,
                unpriced ? 1L : 0L,
                unpriced ? usage.getInputTokens() : 0L,
                unpriced ? usage.getOutputTokens() : 0L,
                unpriced ? usage.getCachedInputTokens() : 0L);
    }

    /** The sum of two totals; the model and provider are {@code a}'s, the provider null when they differ. */
    public static UsageTotal plus(UsageTotal a, UsageTotal b) {
        Map<String, String> cost = new HashMap<>(a.getCost());
        b.getCost().forEach((currency, amount) -> cost.merge(currency, amount, UsageTotals::sum));
        return new UsageTotal(
                Objects.equals(a.getProvider(), b.getProvider()) ? a.getProvider() : null,
                a.getModel(),
                a.getEvents() + b.getEvents(),
                a.getInputTokens() + b.getInputTokens(),
                a.getOutputTokens() + b.getOutputTokens(),
                a.getCachedInputTokens() + b.getCachedInputTokens(),
                a.getReasoningTokens() + b.getReasoningTokens(),
                cost,
                a.getUnpricedEvents() + b.getUnpricedEvents(),
                a.getUnpricedInputTokens() + b.getUnpricedInputTokens(),
                a.getUnpricedOutputTokens() + b.getUnpricedOutputTokens(),
                a.getUnpricedCachedInputTokens() + b.getUnpricedCachedInputTokens());
    }

    /** Two exact decimals' sum, as exact decimal text. */
    public static String sum(String a, String b) {
        return new BigDecimal(a).add(new BigDecimal(b)).stripTrailingZeros().toPlainString();
    }
}
