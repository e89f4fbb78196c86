package dev.substrate.config;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/** The checks of settings that Kafka's {@code ConfigDef} has none for. */
final class Validators {

    /** Refuses empty and blank strings. */
    static final ConfigDef.Validator NON_BLANK = new ConfigDef.Validator() {
        @Override
        public void ensureValid(String name, Object value) {
            if (value == null || ((String) value).isBlank()) {
                throw new ConfigException(name, value, "must not be blank");
            }
        }

        @Override
        public String toString() {
            return "non-blank string";
        }
    };

    /** Topic name characters only, and short enough to leave room for the longest topic name. */
    static final ConfigDef.Validator TOPIC_PREFIX = new ConfigDef.Validator() {
        @Override
        public void ensureValid(String name, Object value) {
            String prefix = (String) value;
            if (prefix == null || !prefix.matches("[A-Za-z0-9._-]{0,200}")) {
                throw new ConfigException(name, value, "must be at most 200 of A-Z a-z 0-9 . _ -");
            }
        }

        @Override
        public String toString() {
            return "topic name characters";
        }
    };

    private Validators() {}
}
