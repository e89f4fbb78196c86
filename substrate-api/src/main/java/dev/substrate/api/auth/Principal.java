package dev.substrate.api.auth;

import java.util.Set;

/**
 * Who a request acts as: the name events are appended under ({@code actor}) and room membership is checked
 * against, and the roles the token grants.
 */
public record Principal(String name, Set<Role> roles) {

    public Principal {
        roles = Set.copyOf(roles);
    }

    /** Whether the principal has any of {@code roles}. */
    public boolean hasAny(Role... wanted) {
        for (Role role : wanted) {
            if (roles.contains(role)) {
                return true;
            }
        }
        return false;
    }
}
