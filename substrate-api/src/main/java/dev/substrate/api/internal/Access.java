package dev.substrate.api.internal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.substrate.api.auth.Principal;
import dev.substrate.api.auth.Role;
import dev.substrate.entity.EntityKind;
import dev.substrate.events.room.RoomRole;
import dev.substrate.state.ArtifactState;
import dev.substrate.state.RoomState;
import dev.substrate.state.RunState;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The one authorization decision of the API: may this principal do this to this resource, as the resource is in the
 * state. Every route, stream, blob read, forwarded request and position wait asks it; no route decides access for
 * itself. Two questions, one table:
 *
 * <ul>
 *   <li>{@link #mayCall}: may the principal's roles call a route of this {@link Permission} at all (403 if not),
 *       asked by the route table before the handler runs, before any body is read;
 *   <li>{@link #decide}: may it take this {@link Action} on this {@link Resource}. Outside a scoped token's projects an
 *       entity does not exist for it ({@code 404}, as for an id nobody used); inside, a room it is not a member of is
 *       {@code 403}. Artifacts are governed by their project ({@code parentId}) and by the room they belong to: its
 *       members read them, its writers and owners change them.
 * </ul>
 *
 * <p>The roles: admins do everything, tokens included; operators read everything and append anything; services
 * append and read runs and artifacts, and the rooms they are members of; observers read runs and artifacts and the
 * rooms they are members of.
 */
final class Access {

    private Access() {}

    /** What a route does, as far as access goes: the column of the permission matrix it belongs to. */
    enum Permission {
        /** No token needed: liveness, readiness, the API's description. */
        PUBLIC,
        /** Any valid token: who am I, metrics. */
        AUTHENTICATED,
        /** Mint, list and revoke tokens: admins. */
        MANAGE_TOKENS,
        /** Subscribe, list, delete and replay webhooks: admins and operators, within their projects. */
        MANAGE_WEBHOOKS,
        /** Set a new version of the price table: admins (it prices every project). */
        MANAGE_PRICES,
        /** Set, remove and plan retention policies: admins (a policy deletes what it matches). */
        MANAGE_RETENTION,
        /** Erase a room (its state and its content keys): admins. */
        ERASE,
        /** Create an entity in a project: appenders, within their projects. */
        CREATE,
        /** Append an event to an entity: appenders who may change it. */
        APPEND,
        /** Read one entity, its history, outcomes, transcript, stream or content: whoever may read it. */
        READ,
        /** List or count entities: any token; each item is one the caller may read. */
        LIST,
        /**
         * What one instance asks another in a caller's name ({@link Reads#owned}): signed forwarded requests alone;
         * the asking instance decides on the answer.
         */
        INSTANCE;

        /** The roles that may call a route of this permission. */
        Role[] roles() {
            return switch (this) {
                case PUBLIC, AUTHENTICATED, READ, LIST, INSTANCE -> Role.values();
                case MANAGE_TOKENS, MANAGE_PRICES, MANAGE_RETENTION, ERASE -> new Role[] {Role.ADMIN};
                case MANAGE_WEBHOOKS -> new Role[] {Role.ADMIN, Role.OPERATOR};
                case CREATE, APPEND -> APPENDERS;
            };
        }
    }

    /** What is done to a resource. */
    enum Action {
        READ,
        APPEND
    }

    /** The roles that may append. */
    static final Role[] APPENDERS = {Role.ADMIN, Role.OPERATOR, Role.SERVICE};

    /** A thing access is decided on, as it is in the state. */
    interface Resource {

        /** The project it belongs to (a run's or room's {@code project}, an artifact's {@code parentId}), or null. */
        String project();
    }

    /** A run, or a run about to be created in {@code project}. */
    record RunResource(String project) implements Resource {}

    /**
     * A room with its members; {@code exists} false for a room the state does not hold (which no one but operators and
     * admins may read, and to which the fold decides appends).
     */
    record RoomResource(String id, String project, Map<String, RoomRole> members, boolean exists) implements Resource {

        static RoomResource of(RoomState room) {
            Map<String, RoomRole> members = new HashMap<>();
            room.getMembers().forEach((name, role) -> members.put(name, role));
            return new RoomResource(room.getRoomId(), room.getProject(), members, true);
        }

        static RoomResource fromJson(String id, JsonNode room) {
            Map<String, RoomRole> members = new HashMap<>();
            room.path("members")
                    .properties()
                    .forEach(member -> members.put(
                            member.getKey(), RoomRole.valueOf(member.getValue().asText())));
            JsonNode project = room.get("project");
            return new RoomResource(
                    id, project != null && project.isTextual() ? project.asText() : null, members, true);
        }

        static RoomResource missing(String id) {
            return new RoomResource(id, null, Map.of(), false);
        }
    }

    /**
     * An artifact of {@code project} (its {@code parentId}). The room it belongs to, if any, is decided on as a {@link
     * RoomResource} of its own, read where the room is held ({@link RoomAccess#requireArtifact}): reading the
     * artifact needs the room's read, changing it the room's append.
     */
    record ArtifactResource(String project) implements Resource {}

    /** What the decision is: allowed, or the problem to answer (404 hidden, 403 forbidden). */
    record Decision(boolean allowed, int status, String reason) {

        static final Decision ALLOW = new Decision(true, 200, "");

        static Decision hidden(String what) {
            return new Decision(false, 404, what);
        }

        static Decision forbidden(String reason) {
            return new Decision(false, 403, reason);
        }

        /**
         * Throws the decision's problem unless it allows; an entity hidden from the caller answers exactly as {@code
         * kind id} would if nobody had created it.
         */
        void require(EntityKind<?, ?> kind, String id) {
            if (!allowed) {
                throw status == 404 ? Scope.hidden(kind, id) : Problem.forbidden(reason);
            }
        }

        /** Throws the decision's problem unless it allows. */
        void require() {
            if (!allowed) {
                throw status == 404 ? Problem.notFound(reason) : Problem.forbidden(reason);
            }
        }
    }

    /** Whether {@code principal}'s roles let it call a route of {@code permission}; the 403 if not. */
    static Decision mayCall(Principal principal, Permission permission) {
        if (permission == Permission.PUBLIC || principal.hasAny(permission.roles())) {
            return Decision.ALLOW;
        }
        return Decision.forbidden(principal.name() + " needs one of the roles "
                + Arrays.toString(permission.roles()).toLowerCase(Locale.ROOT));
    }

    /** The decision on {@code action} by {@code principal} on {@code resource}. */
    static Decision decide(Principal principal, Action action, Resource resource) {
        if (action == Action.APPEND && !principal.hasAny(APPENDERS)) {
            return Decision.forbidden(
                    principal.name() + " may not append: it needs one of the roles admin, operator, service");
        }
        if (resource instanceof RoomResource room) {
            return decideRoom(principal, action, room);
        }
        if (resource instanceof ArtifactResource artifact) {
            return reach(principal, "artifact", artifact.project());
        }
        return reach(principal, "run", resource.project());
    }

    private static Decision decideRoom(Principal principal, Action action, RoomResource room) {
        if (room.exists() && !principal.reaches(room.project())) {
            return Decision.hidden("room " + room.id());
        }
        if (!room.exists()) {
            // Nothing to read. An unscoped appender may name it all the same: the fold refuses it as not found (or
            // takes it, when the room's creation is on its way), and that answer reveals nothing.
            return action == Action.APPEND && !principal.scoped()
                    ? Decision.ALLOW
                    : Decision.hidden("room " + room.id());
        }
        if (readsEveryRoom(principal)) {
            return Decision.ALLOW;
        }
        RoomRole role = room.members().get(principal.name());
        if (role == null) {
            return Decision.forbidden(principal.name() + " is not a member of room " + room.id());
        }
        if (action == Action.APPEND && role == RoomRole.reader) {
            return Decision.forbidden(
                    principal.name() + " is a reader of room " + room.id() + "; appends need writer or owner");
        }
        return Decision.ALLOW;
    }

    /** 404 unless a scoped principal reaches {@code project}. */
    private static Decision reach(Principal principal, String kind, String project) {
        return principal.reaches(project) ? Decision.ALLOW : Decision.hidden(kind + " outside the caller's projects");
    }

    /** Whether {@code principal} reads every room, member or not. */
    static boolean readsEveryRoom(Principal principal) {
        return principal.hasAny(Role.ADMIN, Role.OPERATOR);
    }

    /**
     * Whether a scoped principal may create an entity naming {@code project}: 403 if not (it creates nothing outside
     * its scope).
     */
    static Decision mayCreateIn(Principal principal, EntityKind<?, ?> kind, String project) {
        if (principal.reaches(project)) {
            return Decision.ALLOW;
        }
        return Decision.forbidden(principal.name() + " is limited to the projects " + principal.projects() + "; "
                + Scope.projectField(kind) + " " + (project == null ? "(none)" : project) + " is not one of them");
    }

    /** Whether {@code principal} may mint, list or revoke a token scoped to {@code projects}: its scope covers them. */
    static boolean mayManageToken(Principal principal, List<String> projects) {
        return principal.covers(projects);
    }

    /**
     * Whether {@code principal} may read the usage sums of {@code project}: whoever reaches the project. Sums name
     * runs, models and days, never a room, so room membership does not enter into it.
     */
    static boolean mayReadUsage(Principal principal, String project) {
        return principal.reaches(project);
    }

    /** The decision to read a run. */
    static boolean mayRead(Principal principal, RunState run) {
        return decide(principal, Action.READ, new RunResource(run.getProject())).allowed();
    }

    /** The decision to read a room. */
    static boolean mayRead(Principal principal, RoomState room) {
        return decide(principal, Action.READ, RoomResource.of(room)).allowed();
    }

    /**
     * The decision to list an artifact: within reach, and in no room, or in one the caller reads every room of, or in
     * {@code listedRoom}, the room the list asked for (whose membership was decided already).
     */
    static boolean mayList(Principal principal, ArtifactState artifact, String listedRoom) {
        String room = artifact.getProvenance().getRoomId();
        return principal.reaches(artifact.getParentId())
                && (room == null || readsEveryRoom(principal) || room.equals(listedRoom));
    }
}
