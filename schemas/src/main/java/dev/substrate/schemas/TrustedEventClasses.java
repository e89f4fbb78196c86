package dev.substrate.schemas;

import org.apache.avro.util.ClassSecurityValidator;

/**
 * Tells Avro that the generated event classes may be instantiated by name. Avro 1.12 refuses, by default, to
 * load any class named in a schema that is not on a trust list (a guard against deserialization gadgets); the
 * event classes in {@code dev.substrate.events} are ours and safe. Every entry point that decodes or copies
 * events calls {@link #register()}; it is idempotent and keeps whatever trust was configured before.
 */
public final class TrustedEventClasses {

    /** The package of the generated event classes, and of nothing else. */
    public static final String PACKAGE_PREFIX = "dev.substrate.events.";

    private static boolean registered;

    private TrustedEventClasses() {}

    /** Adds the event classes to Avro's global trust list, once. */
    public static synchronized void register() {
        if (registered) {
            return;
        }
        ClassSecurityValidator.ClassSecurityPredicate before = ClassSecurityValidator.getGlobal();
        ClassSecurityValidator.setGlobal(
                ClassSecurityValidator.composite(before, type -> type.getName().startsWith(PACKAGE_PREFIX)));
        registered = true;
    }
}
