package dev.substrate.schemas;

import java.util.List;
import org.apache.avro.util.ClassSecurityValidator;

/**
 * Tells Avro that the generated event classes may be instantiated by name. Avro 1.12 refuses, by default, to
 * load any class named in a schema that is not on a trust list (a guard against deserialization gadgets); the
 * event classes in {@code dev.substrate.events} are ours and safe. Every entry point that decodes or copies
 * events calls {@link #register()}; it is idempotent and keeps whatever trust was configured before.
 */
public final class TrustedEventClasses {

    /** The packages of the generated event and state classes, and of nothing else. */
    public static final List<String> PACKAGE_PREFIXES = List.of("dev.substrate.events.", "dev.substrate.state.");

    private static boolean registered;

    private TrustedEventClasses() {}

    /** Adds the event classes to Avro's global trust list, once. */
    public static synchronized void register() {
        if (registered) {
            return;
        }
        ClassSecurityValidator.ClassSecurityPredicate before = ClassSecurityValidator.getGlobal();
        ClassSecurityValidator.setGlobal(ClassSecurityValidator.composite(
                before, type -> PACKAGE_PREFIXES.stream().anyMatch(type.getName()::startsWith)));
        registered = true;
    }
}
