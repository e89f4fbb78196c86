package dev.substrate.retention;

import dev.substrate.SubstrateException;

/** A retention policy that cannot be kept: names the field at fault. Sending it again unchanged cannot help. */
public final class InvalidPolicy extends SubstrateException {

    private static final long serialVersionUID = 1L;

    private final String field;

    public InvalidPolicy(String field, String message) {
        super((field.isEmpty() ? "the policy" : field) + " " + message);
        this.field = field;
    }

    @Override
    public boolean isRetriable() {
        return false;
    }

    /** The field at fault ({@code ""}: the whole policy). */
    public String field() {
        return field;
    }
}
