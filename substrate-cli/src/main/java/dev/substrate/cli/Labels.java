package dev.substrate.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * Labels as every command takes them: {@code KEY:VALUE}, split at the first colon, as the HTTP API's {@code
 * label=KEY:VALUE} filter reads them (a key has no colon; a value may).
 */
final class Labels {

    private Labels() {}

    /** The labels {@code given} to {@code option}; a usage error (exit 2) naming the one without a key. */
    static Map<String, String> parse(CommandSpec spec, String option, List<String> given) {
        Map<String, String> labels = new LinkedHashMap<>();
        for (String label : given) {
            int colon = label.indexOf(':');
            if (colon < 1) {
                throw new ParameterException(
                        spec.commandLine(), option + " takes KEY:VALUE (such as task:T-1), was '" + label + "'");
            }
            labels.put(label.substring(0, colon), label.substring(colon + 1));
        }
        return labels;
    }
}
