package dev.substrate.api.internal;

import io.javalin.http.Context;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The query parameters a route takes. A parameter the route does not take, or one given twice that is not a list,
 * is a 400 naming it: a filter the API does not know must not answer as if it had filtered.
 *
 * @param single the parameters taken once
 * @param repeatable the parameters that may be given more than once (each a value of a list)
 */
record Params(Set<String> single, Set<String> repeatable) {

    /** What every read may carry: a read-your-writes position and how long to wait for it. */
    static final Set<String> READ = Set.of("position", "timeoutMs");

    /** A key lookup: what every read takes, nothing more. */
    static final Params READ_ONLY = new Params(READ, Set.of());

    /** No parameters. */
    static final Params NONE = new Params(Set.of(), Set.of());

    Params {
        single = Set.copyOf(single);
        repeatable = Set.copyOf(repeatable);
    }

    /** These single parameters. */
    static Params of(String... names) {
        return new Params(Set.of(names), Set.of());
    }

    /** These single parameters and what every read takes. */
    static Params read(String... names) {
        return of(names).and(READ);
    }

    /** These parameters and {@code more}. */
    Params and(Set<String> more) {
        Set<String> all = new TreeSet<>(single);
        all.addAll(more);
        return new Params(all, repeatable);
    }

    /** These parameters, and {@code names} as repeatable ones. */
    Params repeatable(String... names) {
        Set<String> all = new TreeSet<>(repeatable);
        all.addAll(List.of(names));
        return new Params(single, all);
    }

    /** Every name this route takes, sorted: what {@code /openapi.json} must document for it. */
    Set<String> names() {
        Set<String> names = new TreeSet<>(single);
        names.addAll(repeatable);
        return names;
    }

    /** A name as a message may quote it: printable, and short. */
    private static String shown(String name) {
        String printable = name.codePoints()
                .map(c -> Character.isISOControl(c) ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
                .toString();
        return printable.length() > 64 ? printable.substring(0, 64) + "..." : printable;
    }

    /** 400 unless the request's query parameters are among these, each non-list one at most once. */
    void check(Context ctx) {
        for (Map.Entry<String, List<String>> param : ctx.queryParamMap().entrySet()) {
            String name = param.getKey();
            if (repeatable.contains(name)) {
                continue;
            }
            if (!single.contains(name)) {
                throw Problem.badRequest(
                        "unknown query parameter '" + shown(name) + "'"
                                + (names().isEmpty() ? ": this route takes none" : "; this route takes " + names()),
                        shown(name));
            }
            if (param.getValue().size() > 1) {
                throw Problem.badRequest(name + " may be given once (a list is comma-separated)", name);
            }
        }
    }
}
