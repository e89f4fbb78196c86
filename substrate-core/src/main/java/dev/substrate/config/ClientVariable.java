package dev.substrate.config;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An environment variable the command line reads, beside the settings of an instance: where the operator
 * commands find the API, who local runs are appended as, how much is logged, the JVM's options.
 *
 * @param name the variable, such as {@code SUBSTRATE_URL}
 * @param defaultValue what holds when it is unset, in words when it is not a value
 * @param meaning what it sets
 * @param secret whether its value is masked when printed
 */
public record ClientVariable(String name, String defaultValue, String meaning, boolean secret) {

    /** Its value in {@code environment}, stripped; empty when unset or blank. */
    public Optional<String> in(Map<String, String> environment) {
        String value = environment.get(name);
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.strip());
    }

    /** The API the operator commands call. */
    public static final ClientVariable URL = new ClientVariable(
            "SUBSTRATE_URL",
            "http://localhost:8080",
            "The API the operator commands (`runs`, `rooms`, `artifacts`, `tokens`, `share`, `do`) call; `--url`.",
            false);
    /** The bearer token the operator commands send. */
    public static final ClientVariable TOKEN = new ClientVariable(
            "SUBSTRATE_TOKEN",
            "./.substrate/admin.token when present",
            "The bearer token the operator commands send; `--token`.",
            true);
    /** The local store of {@code local}, {@code share} and {@code do}. */
    public static final ClientVariable LOCAL_DB = new ClientVariable(
            "SUBSTRATE_LOCAL_DB",
            "./.substrate/local.db",
            "The SQLite file of local runs (`local`, `share`, `do`); `--local-db`.",
            false);
    /** Who local runs' events are appended as. */
    public static final ClientVariable ACTOR = new ClientVariable(
            "SUBSTRATE_ACTOR",
            "local:<user name>",
            "Who local runs' events are appended as (`local`, `do`); kept when a run is shared.",
            false);
    /** How much of Substrate's own logging reaches standard error. */
    public static final ClientVariable LOG_LEVEL = new ClientVariable(
            "SUBSTRATE_LOG_LEVEL",
            "WARN",
            "The least level of Substrate's own log lines on standard error (`INFO`, `DEBUG`); Kafka's stay at WARN.",
            false);
    /** The launcher's JVM options. */
    public static final ClientVariable JAVA_OPTS = new ClientVariable(
            "SUBSTRATE_JAVA_OPTS",
            "(none)",
            "Options the `./substrate` launcher gives the JVM, such as `-Xmx2g`.",
            false);

    /** Every variable the command line reads beside the settings, in the order the README lists them. */
    public static final List<ClientVariable> ALL = List.of(URL, TOKEN, LOCAL_DB, ACTOR, LOG_LEVEL, JAVA_OPTS);
}
