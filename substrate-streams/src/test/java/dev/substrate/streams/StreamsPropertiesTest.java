package dev.substrate.streams;

import static org.assertj.core.api.Assertions.assertThat;

import dev.substrate.config.SubstrateConfig;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class StreamsPropertiesTest {

    @Test
    void theFoldsProducersLingerFiveMillisecondsUnlessALingerIsSet() {
        assertThat(properties(Map.of())).containsEntry("producer.linger.ms", SubstrateFold.FOLD_LINGER_MS);
        // A linger for every client is the caller's, for the fold's producers too.
        assertThat(properties(Map.of("linger.ms", "20")))
                .containsEntry("linger.ms", "20")
                .doesNotContainKey("producer.linger.ms");
        assertThat(properties(Map.of("producer.linger.ms", "50"))).containsEntry("producer.linger.ms", "50");
    }

    private static Properties properties(Map<String, String> settings) {
        Map<String, String> all = new HashMap<>(settings);
        all.put("bootstrap.servers", "localhost:9092");
        return SubstrateFold.streamsProperties(SubstrateConfig.load(Map.of(), all));
    }
}
