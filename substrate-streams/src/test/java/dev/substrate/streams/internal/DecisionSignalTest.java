package dev.substrate.streams.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class DecisionSignalTest {

    private final DecisionSignal signal = new DecisionSignal();

    @Test
    void aWaiterWakesAtTheNextDecisionNotAtItsTimeLimit() throws Exception {
        long seen = signal.decided();
        CompletableFuture<Long> woken = CompletableFuture.supplyAsync(() -> {
            signal.awaitAfter(seen, Duration.ofHours(1).toNanos());
            return signal.decided();
        });
        // The waiter may not be parked yet when the decision comes: either way it must return, long before an hour.
        signal.decidedOne();
        assertThat(woken.get(30, TimeUnit.SECONDS)).isEqualTo(seen + 1);
    }

    @Test
    void aDecisionMadeBeforeTheWaitEndsItAtOnce() {
        long seen = signal.decided();
        signal.decidedOne();
        signal.awaitAfter(seen, Duration.ofHours(1).toNanos());
        assertThat(signal.decided()).isEqualTo(seen + 1);
    }

    @Test
    void withoutADecisionTheWaitEndsAtItsLimit() {
        long seen = signal.decided();
        signal.awaitAfter(seen, Duration.ofMillis(20).toNanos());
        assertThat(signal.decided()).isEqualTo(seen);
    }

    @Test
    void anInterruptedWaiterReturnsKeepingItsInterrupt() throws Exception {
        long seen = signal.decided();
        CompletableFuture<Boolean> interrupted = new CompletableFuture<>();
        Thread waiter = new Thread(() -> {
            signal.awaitAfter(seen, Duration.ofHours(1).toNanos());
            interrupted.complete(Thread.currentThread().isInterrupted());
        });
        waiter.start();
        waiter.interrupt();
        assertThat(interrupted.get(30, TimeUnit.SECONDS)).isTrue();
    }
}
