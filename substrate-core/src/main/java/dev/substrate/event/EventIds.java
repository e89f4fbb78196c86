package dev.substrate.event;

import java.security.SecureRandom;
import java.time.Clock;
import java.util.UUID;

/**
 * Time-ordered event ids: UUID version 7 (RFC 9562), whose first 48 bits are the Unix time in milliseconds, so
 * that ids sort by creation time across processes. Within one millisecond of one process they also increase,
 * through a 12-bit counter. Thread-safe.
 */
public final class EventIds {

    private static final EventIds SYSTEM = new EventIds(Clock.systemUTC());

    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private long lastMillis = -1;
    private int counter;

    /** Ids stamped from {@code clock}. */
    public EventIds(Clock clock) {
        this.clock = clock;
    }

    /** A new id from the system clock. */
    public static String next() {
        return SYSTEM.nextId();
    }

    /** A new id, greater than every earlier id of this generator. */
    public String nextId() {
        long millis;
        int sequence;
        synchronized (this) {
            millis = Math.max(clock.millis(), lastMillis);
            if (millis == lastMillis) {
                counter++;
                if (counter > 0xFFF) {
                    // 4096 ids in one millisecond: borrow the next millisecond.
                    millis++;
                    counter = 0;
                }
            } else {
                counter = random.nextInt(0x800);
            }
            lastMillis = millis;
            sequence = counter;
        }
        long high = (millis << 16) | 0x7000L | sequence;
        long low = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new UUID(high, low).toString();
    }
}
