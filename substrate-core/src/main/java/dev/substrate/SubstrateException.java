package dev.substrate;

/**
 * The root of every exception Substrate throws. Unchecked, and split in two: a {@linkplain #isRetriable()
 * retriable} failure may succeed if the same call is made again later (a broker unreachable, a rebalance in
 * progress); a fatal one will fail the same way every time (bad input, bad configuration).
 */
public abstract class SubstrateException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    protected SubstrateException(String message) {
        super(message);
    }

    protected SubstrateException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Whether making the same call again later may succeed. */
    public abstract boolean isRetriable();
}
