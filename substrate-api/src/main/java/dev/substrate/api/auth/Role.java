package dev.substrate.api.auth;

import java.util.Locale;

/** What a principal may do through the HTTP API. */
public enum Role {
    /** Everything, including creating tokens. */
    ADMIN,
    /** Reads everything, appends anything; cannot create tokens. */
    OPERATOR,
    /** Appends events and reads runs and artifacts; reads rooms it is a member of. */
    SERVICE,
    /** Reads runs and artifacts; reads rooms it is a member of. */
    OBSERVER;

    /** The role's name as written in tokens and on the command line, e.g. {@code operator}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The role named {@code id}, case-insensitively. */
    public static Role of(String id) {
        try {
            return valueOf(id.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "unknown role '" + id + "': one of admin, operator, service, observer", e);
        }
    }
}
