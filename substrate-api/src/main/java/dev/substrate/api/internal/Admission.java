package dev.substrate.api.internal;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many of one bounded resource (blob reads, uploads, waits for the blob index) each caller holds at once on this
 * instance, counted by the id of the token it presented: a principal's name can be minted again by any admin, a
 * token id cannot. One past the limit is a 429 with {@code Retry-After}, so that one caller cannot take every slot
 * of an instance-wide bound from the others.
 */
final class Admission {

    private final String what;
    private final String setting;
    private final int perCaller;
    private final Map<String, AtomicInteger> held = new ConcurrentHashMap<>();

    /**
     * @param what what is admitted, as a message names it ({@code "blob reads"})
     * @param setting the setting that bounds it, or a description of the bound
     * @param perCaller how many one token may hold at once
     */
    Admission(String what, String setting, int perCaller) {
        this.what = what;
        this.setting = setting;
        this.perCaller = perCaller;
    }

    /** One admitted use: released once, however many times {@link #close} is called. */
    final class Slot implements AutoCloseable {
        private final String tokenId;
        private final AtomicBoolean released = new AtomicBoolean();

        private Slot(String tokenId) {
            this.tokenId = tokenId;
        }

        @Override
        public void close() {
            if (released.compareAndSet(false, true)) {
                held.computeIfPresent(tokenId, (id, count) -> count.decrementAndGet() <= 0 ? null : count);
            }
        }
    }

    /** A slot for the caller with token {@code tokenId}; 429 when it holds {@code perCaller} already. */
    Slot admit(String tokenId) {
        int[] now = new int[1];
        held.compute(tokenId, (id, count) -> {
            AtomicInteger counted = count == null ? new AtomicInteger() : count;
            now[0] = counted.incrementAndGet();
            return counted;
        });
        Slot slot = new Slot(tokenId);
        if (now[0] > perCaller) {
            slot.close();
            throw Problem.tooManyRequests(
                    "this token holds " + perCaller + " " + what + " on this instance already (" + setting + ")");
        }
        return slot;
    }

    /** How many slots the caller with token {@code tokenId} holds. */
    int heldBy(String tokenId) {
        AtomicInteger count = held.get(tokenId);
        return count == null ? 0 : count.get();
    }
}
