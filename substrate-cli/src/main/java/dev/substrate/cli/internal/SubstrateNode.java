package dev.substrate.cli.internal;

import dev.substrate.api.HttpApi;
import dev.substrate.config.SubstrateConfig;

/**
 * The parts of one Substrate process that run against a Kafka cluster, started together and stopped in
 * reverse order. Today that is the HTTP API; the fold joins it with the streams module.
 */
public final class SubstrateNode implements AutoCloseable {

    private final HttpApi http;

    private SubstrateNode(HttpApi http) {
        this.http = http;
    }

    /** Starts every part against the cluster named by {@code config.bootstrapServers()}. */
    public static SubstrateNode start(SubstrateConfig config) {
        HttpApi http = HttpApi.start(config.httpHost(), config.httpPort());
        return new SubstrateNode(http);
    }

    /** Where the HTTP API answers. */
    public String httpUrl() {
        return http.baseUrl();
    }

    @Override
    public void close() {
        http.close();
    }
}
