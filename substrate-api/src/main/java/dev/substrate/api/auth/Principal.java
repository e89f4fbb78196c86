package dev.substrate.api.auth;

import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Who a request acts as: the name events are appended under ({@code actor}) and room membership is checked
 * against, the roles the token grants and, for a token scoped to projects, the project patterns it is limited to.
 *
 * @param name the principal's name
 * @param roles what it may do
 * @param projects project patterns such as {@code project:acme/*} ({@code *} matches any characters); empty for a
 *     token that reaches every project
 */
public record Principal(String name, Set<Role> roles, List<String> projects) {

    /** The most project patterns one token carries. */
    public static final int MAX_PROJECTS = 32;

    private static final Pattern PROJECT_PATTERN = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:/*@-]{0,199}");

    public Principal {
        roles = Set.copyOf(roles);
        projects = List.copyOf(projects);
        if (projects.size() > MAX_PROJECTS) {
            throw new IllegalArgumentException("a token carries at most " + MAX_PROJECTS + " project patterns");
        }
        for (String project : projects) {
            requireProjectPattern(project);
        }
    }

    /** A principal that reaches every project. */
    public Principal(String name, Set<Role> roles) {
        this(name, roles, List.of());
    }

    /**
     * Checks one project pattern: 1 to 200 of letters, digits and {@code . _ : / * @ -}, starting with a letter or
     * digit.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static String requireProjectPattern(String pattern) {
        if (pattern == null || !PROJECT_PATTERN.matcher(pattern).matches()) {
            throw new IllegalArgumentException("a project pattern is 1 to 200 letters, digits and . _ : / * @ -, "
                    + "starting with a letter or digit, such as project:acme/*; was '" + pattern + "'");
        }
        return pattern;
    }

    /**
     * Checks a principal's name as a token may carry it: 1 to 256 characters, none of them a control character, a
     * format character (zero-width and bidirectional controls, which make two names look alike), a lone surrogate, a
     * line or paragraph separator, or one of {@code ; , =}, which separate names in headers and logs.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static String requireName(String name) {
        if (name == null || name.isBlank() || name.length() > 256) {
            throw new IllegalArgumentException("a principal is 1 to 256 characters, not blank");
        }
        for (int i = 0; i < name.length(); ) {
            int c = name.codePointAt(i);
            int type = Character.getType(c);
            if (Character.isISOControl(c)
                    || type == Character.FORMAT
                    || type == Character.SURROGATE
                    || type == Character.LINE_SEPARATOR
                    || type == Character.PARAGRAPH_SEPARATOR
                    || c == ';'
                    || c == ','
                    || c == '=') {
                throw new IllegalArgumentException(String.format(
                        "a principal must not contain U+%04X (control, zero-width, bidirectional and separator"
                                + " characters are refused)",
                        c));
            }
            i += Character.charCount(c);
        }
        return name;
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

    /** Whether the token is limited to some projects. */
    public boolean scoped() {
        return !projects.isEmpty();
    }

    /**
     * Whether {@code project} (a run's or room's {@code project}, an artifact's {@code parentId}) is within the
     * principal's reach: always for an unscoped principal; for a scoped one, when a pattern matches it. Nothing
     * without a project is within a scoped principal's reach.
     */
    public boolean reaches(String project) {
        if (!scoped()) {
            return true;
        }
        if (project == null || project.isEmpty()) {
            return false;
        }
        for (String pattern : projects) {
            if (matches(pattern, project)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether every project the {@code wanted} patterns match is within reach: how a scoped token may mint only
     * tokens inside its own scope. An unscoped principal covers everything; a scoped one covers no unscoped token.
     */
    public boolean covers(List<String> wanted) {
        if (!scoped()) {
            return true;
        }
        if (wanted.isEmpty()) {
            return false;
        }
        // A pattern's own '*' can only be matched by a '*' of ours, so matching its text proves it is inside.
        return wanted.stream().allMatch(this::reaches);
    }

    /** Glob matching: {@code *} matches any run of characters, everything else itself. */
    static boolean matches(String pattern, String text) {
        return dev.substrate.entity.ProjectPattern.matches(pattern, text);
    }
}
