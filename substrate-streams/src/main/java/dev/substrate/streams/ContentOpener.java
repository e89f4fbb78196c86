package dev.substrate.streams;

import dev.substrate.entity.EntityKind;
import org.apache.avro.specific.SpecificRecord;

/**
 * Opens what a state read finds sealed (the content of a room of an encrypted project), for the caller the API has
 * already let read it. {@link #NONE} returns every record as stored.
 */
public interface ContentOpener {

    /** Returns records as they are stored. */
    ContentOpener NONE = new ContentOpener() {
        @Override
        public <T extends SpecificRecord> T open(EntityKind<?, ?> kind, String id, T record) {
            return record;
        }
    };

    /** {@code record}, read for entity {@code id} of {@code kind}, with its sealed content opened. */
    <T extends SpecificRecord> T open(EntityKind<?, ?> kind, String id, T record);
}
