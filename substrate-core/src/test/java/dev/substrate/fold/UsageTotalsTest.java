package dev.substrate.fold;

import static org.assertj.core.api.Assertions.assertThat;

import dev.substrate.events.common.Cost;
import dev.substrate.events.common.Usage;
import dev.substrate.state.UsageTotal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class UsageTotalsTest {

    @Test
    void addsTokensByModelAndCostsExactlyByCurrency() {
        List<UsageTotal> totals = List.of();
        for (int i = 0; i < 10; i++) {
            totals = UsageTotals.add(totals, usage("gpt-4o", 100, 10, new Cost(0.1, "USD")));
        }
        totals = UsageTotals.add(totals, usage("gpt-4o", 1, 1, new Cost(0.5, "EUR")));
        totals = UsageTotals.add(totals, usage("claude", 7, 3, null));

        assertThat(totals).hasSize(2);
        UsageTotal gpt = totals.get(0);
        assertThat(gpt.getEvents()).isEqualTo(11);
        assertThat(gpt.getInputTokens()).isEqualTo(1001);
        assertThat(gpt.getOutputTokens()).isEqualTo(101);
        // Ten times 0.1 in doubles is 0.9999999999999999; as decimals it is 1.
        assertThat(gpt.getCost()).isEqualTo(Map.of("USD", "1", "EUR", "0.5"));
        assertThat(totals.get(1).getCost()).isEmpty();
        assertThat(UsageTotals.add(totals, null)).isSameAs(totals);
    }

    @Test
    void keepsAtMostMaxModelsApartAndSumsTheRestUnderOther() {
        List<UsageTotal> totals = List.of();
        long expectedInput = 0;
        for (int i = 0; i < UsageTotals.MAX_MODELS + 40; i++) {
            totals = UsageTotals.add(totals, usage("model-" + i, i, 1, null));
            expectedInput += i;
        }
        assertThat(totals).hasSize(UsageTotals.MAX_MODELS);
        assertThat(totals.stream().filter(t -> t.getModel().equals(UsageTotals.OTHER)))
                .singleElement()
                .satisfies(other -> assertThat(other.getEvents()).isEqualTo(41));
        assertThat(totals.stream().mapToLong(UsageTotal::getInputTokens).sum()).isEqualTo(expectedInput);
        assertThat(totals.stream().mapToLong(UsageTotal::getEvents).sum()).isEqualTo(UsageTotals.MAX_MODELS + 40);

        // A model already kept apart still adds to its own entry.
        List<UsageTotal> after = UsageTotals.add(totals, usage("model-3", 1000, 0, null));
        assertThat(after.stream().filter(t -> t.getModel().equals("model-3")))
                .singleElement()
                .satisfies(t -> assertThat(t.getInputTokens()).isEqualTo(1003));
    }

    @Test
    void aSumOfDifferentProvidersNamesNone() {
        UsageTotal a = UsageTotals.of(
                Usage.newBuilder(usage("m", 1, 1, null)).setProvider("openai").build());
        UsageTotal b = UsageTotals.of(
                Usage.newBuilder(usage("m", 1, 1, null)).setProvider("azure").build());
        assertThat(UsageTotals.plus(a, a).getProvider()).isEqualTo("openai");
        assertThat(UsageTotals.plus(a, b).getProvider()).isNull();
        assertThat(new ArrayList<>(List.of(UsageTotals.plus(a, b))).get(0).getEvents())
                .isEqualTo(2);
    }

    private static Usage usage(String model, long input, long output, Cost cost) {
        return Usage.newBuilder()
                .setModel(model)
                .setInputTokens(input)
                .setOutputTokens(output)
                .setCost(cost)
                .build();
    }
}
