package dev.substrate.streams;

import java.util.Objects;

/**
 * One Substrate instance of the application, as the others reach its HTTP API: Kafka Streams'
 * {@code application.server}.
 *
 * @param host the advertised host name
 * @param port the HTTP port
 */
public record Instance(String host, int port) {

    public Instance {
        Objects.requireNonNull(host, "host");
    }

    /** Parses {@code host:port}. */
    public static Instance parse(String endpoint) {
        int colon = endpoint.lastIndexOf(':');
        if (colon < 1) {
            throw new IllegalArgumentException("not host:port: " + endpoint);
        }
        return new Instance(endpoint.substring(0, colon), Integer.parseInt(endpoint.substring(colon + 1)));
    }

    /** {@code host:port}. */
    @Override
    public String toString() {
        return host + ":" + port;
    }
}
