package dev.substrate.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SendQueueTest {

    @Test
    void runsSendsInTheOrderEachThreadQueuedThem() throws Exception {
        List<String> ran = Collections.synchronizedList(new ArrayList<>());
        SendQueue queue = new SendQueue(() -> {}, 5);
        int threads = 4;
        int each = 20_000;
        List<Thread> callers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int caller = t;
            callers.add(new Thread(() -> {
                for (int i = 0; i < each; i++) {
                    int n = i;
                    queue.execute(() -> ran.add(caller + ":" + n));
                }
            }));
        }
        callers.forEach(Thread::start);
        for (Thread caller : callers) {
            caller.join();
        }
        queue.close(30, TimeUnit.SECONDS);

        assertThat(ran).hasSize(threads * each);
        for (int t = 0; t < threads; t++) {
            String prefix = t + ":";
            List<Integer> mine = ran.stream()
                    .filter(s -> s.startsWith(prefix))
                    .map(s -> Integer.parseInt(s.substring(prefix.length())))
                    .toList();
            assertThat(mine).isSorted().hasSize(each);
        }
    }

    @Test
    void asksToSendHeldBatchesWhenNothingWaitsBehindAndGroupsWhatArrivesMeanwhile() throws Exception {
        CountDownLatch flushStarted = new CountDownLatch(1);
        CountDownLatch releaseFlush = new CountDownLatch(1);
        AtomicInteger flushes = new AtomicInteger();
        List<Integer> sentBeforeEachFlush = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger sent = new AtomicInteger();
        SendQueue queue = new SendQueue(
                () -> {
                    sentBeforeEachFlush.add(sent.get());
                    if (flushes.incrementAndGet() == 1) {
                        flushStarted.countDown();
                        await(releaseFlush);
                    }
                },
                60_000);

        queue.execute(sent::incrementAndGet);
        await(flushStarted);
        // The first flush waits for its acknowledgement; these queue behind it and go out as one group.
        CompletableFuture<Void> last = new CompletableFuture<>();
        for (int i = 0; i < 99; i++) {
            queue.execute(sent::incrementAndGet);
        }
        queue.execute(() -> last.complete(null));
        assertThat(sent.get()).isEqualTo(1);
        releaseFlush.countDown();
        last.get(30, TimeUnit.SECONDS);
        queue.close(30, TimeUnit.SECONDS);

        assertThat(sentBeforeEachFlush).containsExactly(1, 100);
    }

    @Test
    void goesOnWhenAFlushTakesLongerThanTheLinger() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        SendQueue queue = new SendQueue(() -> await(never), 10);
        CompletableFuture<Void> first = new CompletableFuture<>();
        CompletableFuture<Void> second = new CompletableFuture<>();

        queue.execute(() -> first.complete(null));
        first.get(30, TimeUnit.SECONDS);
        // The flush after the first never returns; the next send still runs, once the linger has passed.
        queue.execute(() -> second.complete(null));

        second.get(30, TimeUnit.SECONDS);
        never.countDown();
        queue.close(30, TimeUnit.SECONDS);
    }

    @Test
    void refusesSendsOnceClosedAndRunsWhatWasQueued() {
        AtomicInteger ran = new AtomicInteger();
        SendQueue queue = new SendQueue(null, 0);
        for (int i = 0; i < 1_000; i++) {
            queue.execute(ran::incrementAndGet);
        }
        queue.close(30, TimeUnit.SECONDS);

        assertThat(ran.get()).isEqualTo(1_000);
        assertThatThrownBy(() -> queue.execute(ran::incrementAndGet)).isInstanceOf(RejectedExecutionException.class);
        assertThat(ran.get()).isEqualTo(1_000);
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
