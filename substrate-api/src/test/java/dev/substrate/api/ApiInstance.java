package dev.substrate.api;

import dev.substrate.api.auth.TokenStore;
import dev.substrate.client.SubstrateClient;
import dev.substrate.config.SubstrateConfig;
import dev.substrate.streams.StateQueries;
import dev.substrate.streams.SubstrateFold;
import dev.substrate.topic.Topics;

/** One Substrate instance for tests: client, HTTP API and fold, started in the order the product starts them. */
final class ApiInstance implements AutoCloseable {

    final SubstrateClient client;
    final HttpApi api;
    final SubstrateFold fold;

    private ApiInstance(SubstrateClient client, HttpApi api, SubstrateFold fold) {
        this.client = client;
        this.api = api;
        this.fold = fold;
    }

    static ApiInstance start(SubstrateConfig config, TokenStore tokens) {
        SubstrateClient client = SubstrateClient.create(config);
        HttpApi api = HttpApi.start(config, client, tokens);
        SubstrateFold fold = SubstrateFold.start(config, api.instance());
        api.serve(new StateQueries(fold.streams(), Topics.from(config)), fold.streams()::metrics);
        return new ApiInstance(client, api, fold);
    }

    String url() {
        return api.baseUrl();
    }

    @Override
    public void close() {
        api.close();
        fold.close();
        client.close();
    }
}
