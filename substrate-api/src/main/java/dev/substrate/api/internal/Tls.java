package dev.substrate.api.internal;

import dev.substrate.config.HttpSettings;
import dev.substrate.config.InvalidConfiguration;
import dev.substrate.config.SubstrateConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/** HTTPS for the API ({@code http.tls.keystore}) and the trust instances forward to each other with. */
public final class Tls {

    private Tls() {}

    /** The API's one connector when it serves HTTPS: TLS with the keystore's key, on {@code http.port}. */
    public static Connector connector(Server server, HttpConfiguration http, SubstrateConfig config, String host) {
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        Path keystore = Path.of(config.get(HttpSettings.TLS_KEYSTORE));
        if (!Files.isReadable(keystore)) {
            throw new InvalidConfiguration(
                    HttpSettings.TLS_KEYSTORE.key(), "cannot read the keystore " + keystore, null);
        }
        ssl.setKeyStorePath(keystore.toAbsolutePath().toString());
        ssl.setKeyStoreType("PKCS12");
        ssl.setKeyStorePassword(config.get(HttpSettings.TLS_KEYSTORE_PASSWORD));
        HttpConfiguration https = new HttpConfiguration(http);
        // Clients may reach an instance by an address its certificate does not name in SNI (an IP, a proxy).
        https.addCustomizer(new SecureRequestCustomizer(false));
        ServerConnector connector = new ServerConnector(
                server, new SslConnectionFactory(ssl, "http/1.1"), new HttpConnectionFactory(https));
        connector.setHost(host);
        connector.setPort(config.get(HttpSettings.PORT));
        return connector;
    }

    /**
     * What forwarding between instances trusts: the certificates of {@code http.tls.truststore}, or the JVM's
     * default trust when only a keystore is set; null (plain HTTP) when the API does not serve HTTPS.
     */
    public static SSLContext clientContext(SubstrateConfig config) {
        if (config.get(HttpSettings.TLS_KEYSTORE).isBlank()) {
            return null;
        }
        try {
            if (config.get(HttpSettings.TLS_TRUSTSTORE).isBlank()) {
                return SSLContext.getDefault();
            }
            KeyStore trusted = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(Path.of(config.get(HttpSettings.TLS_TRUSTSTORE)))) {
                trusted.load(
                        in, config.get(HttpSettings.TLS_TRUSTSTORE_PASSWORD).toCharArray());
            }
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(trusted);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw new InvalidConfiguration(
                    HttpSettings.TLS_TRUSTSTORE.key(), "cannot load the truststore: " + e.getMessage(), e);
        }
    }
}
