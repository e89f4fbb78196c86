package dev.substrate.entity;

/**
 * A project pattern, as scoped tokens, retention policies and {@code encryption.projects} name projects: {@code *}
 * matches any run of characters (slashes included), everything else itself; {@code project:acme/*} matches every
 * project under {@code acme}.
 */
public final class ProjectPattern {

    private ProjectPattern() {}

    /** Whether {@code pattern} matches all of {@code text}. */
    public static boolean matches(String pattern, String text) {
        int p = 0;
        int t = 0;
        int star = -1;
        int resume = 0;
        while (t < text.length()) {
            if (p < pattern.length() && pattern.charAt(p) == '*') {
                star = p++;
                resume = t;
            } else if (p < pattern.length() && pattern.charAt(p) == text.charAt(t)) {
                p++;
                t++;
            } else if (star >= 0) {
                p = star + 1;
                t = ++resume;
            } else {
                return false;
            }
        }
        while (p < pattern.length() && pattern.charAt(p) == '*') {
            p++;
        }
        return p == pattern.length();
    }
}
