package dev.substrate.schemas;

import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.apache.avro.SchemaCompatibility.SchemaPairCompatibility;

/**
 * The schema compatibility rule: a schema is acceptable only if it is full-transitively compatible with every
 * released version: it can read what each of them wrote (backward) and each of them can read what it writes
 * (forward).
 */
final class CompatibilityGate {

    private CompatibilityGate() {}

    /** Every way {@code candidate} breaks compatibility with {@code released}; empty when it is compatible. */
    static List<String> violations(Schema candidate, List<ReleasedSchemas.Version> released) {
        List<String> violations = new ArrayList<>();
        for (ReleasedSchemas.Version version : released) {
            check(violations, "cannot read records written with " + version.fileName(), candidate, version.schema());
            check(violations, version.fileName() + " cannot read records it writes", version.schema(), candidate);
        }
        return violations;
    }

    private static void check(List<String> violations, String what, Schema reader, Schema writer) {
        SchemaPairCompatibility result = SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
        if (result.getType() != SchemaCompatibilityType.COMPATIBLE) {
            violations.add(what + ": " + result.getResult().getIncompatibilities());
        }
    }
}
