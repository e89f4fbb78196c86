package dev.substrate.streams;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.streams.KafkaStreams.State;
import org.apache.kafka.streams.errors.StreamsException;
import org.junit.jupiter.api.Test;

class FoldHealthTest {

    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final FoldHealth health = new FoldHealth(nanos::get);

    @Test
    void shouldBeUnreadyUntilTheFoldHasRestoredItsStateOnce() {
        assertThat(health.notReady())
                .hasValueSatisfying(reason -> assertThat(reason).contains("starting"));
        health.stateChanged(State.REBALANCING);
        assertThat(health.notReady()).isPresent();

        health.stateChanged(State.RUNNING);

        assertThat(health.notReady()).isEmpty();
        assertThat(health.notLive()).isEmpty();
    }

    @Test
    void shouldStayReadyThroughAnOrdinaryRebalance() {
        health.stateChanged(State.REBALANCING);
        health.stateChanged(State.RUNNING);

        health.stateChanged(State.REBALANCING);

        assertThat(health.notReady()).isEmpty();
    }

    @Test
    void shouldBeUnreadyWhileStreamThreadsKeepFailingAndReadyAgainAfterTheRecovery() {
        health.stateChanged(State.RUNNING);

        health.threadFailed(new StreamsException("task 0_4 failed", new IllegalStateException("boom")));

        assertThat(health.notReady())
                .hasValueSatisfying(reason -> assertThat(reason)
                        .contains("stream thread failed")
                        .contains("StreamsException task 0_4 failed: IllegalStateException boom"));
        assertThat(health.threadFailures()).isEqualTo(1);
        assertThat(health.notLive()).isEmpty();

        nanos.addAndGet(Duration.ofSeconds(20).toNanos());
        health.threadFailed(new IllegalStateException("again"));
        nanos.addAndGet(Duration.ofSeconds(20).toNanos());
        assertThat(health.notReady()).isPresent();

        nanos.addAndGet(FoldHealth.RECOVERY.toNanos());
        assertThat(health.notReady()).isEmpty();
        assertThat(health.threadFailures()).isEqualTo(2);
    }

    @Test
    void shouldBeNeitherReadyNorLiveOnceKafkaStreamsStoppedForGood() {
        health.stateChanged(State.RUNNING);
        health.threadFailed(new IllegalStateException("fatal"));
        health.stateChanged(State.PENDING_ERROR);
        health.stateChanged(State.ERROR);

        assertThat(health.notReady())
                .hasValueSatisfying(reason ->
                        assertThat(reason).contains("stopped after an error").contains("fatal"));
        assertThat(health.notLive()).isPresent();
    }

    @Test
    void shouldBeUnreadyWhileStopping() {
        health.stateChanged(State.RUNNING);
        health.stateChanged(State.PENDING_SHUTDOWN);

        assertThat(health.notReady())
                .hasValueSatisfying(reason -> assertThat(reason).contains("stopping"));
        assertThat(health.notLive()).isEmpty();
    }
}
